/**
 * Ollama clients add or drop `:latest` (Ollama's ParseName gives a name without a tag the tag
 * `latest`): the name as given first, then its other form. Every place that matches a client's or a
 * config's model name against a list (the catalog, config loading) goes by this one rule.
 */
export function nameVariants(name: string): string[] {
  if (name.endsWith(":latest")) return [name, name.slice(0, -":latest".length)];
  return [name, `${name}:latest`];
}
