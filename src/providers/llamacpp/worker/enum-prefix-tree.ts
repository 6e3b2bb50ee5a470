/**
 * Flat literal alternations in a GBNF grammar, rewritten as prefix trees.
 *
 * node-llama-cpp writes a JSON Schema `enum` (and a `oneOf` of `const`s) as one rule with an
 * alternative per value: `rule0 ::= ( val0 | val1 | ... )`, each `valN ::= "\"text\""`. llama.cpp
 * keeps a parse stack per live alternative and checks every candidate token against every stack, so
 * with 1,000 values each token costs about 1,000 times a single value's check: 2 s for 13 tokens of a
 * tiny model, during which the engine's other models wait. The same set of strings written as a
 * prefix tree (`"\"city_" ( "0" | "1" ( "0" | "1" )? )`) accepts exactly the same text, but only
 * the branches of the current node are live: the check costs the tree's fan-out, not the enum's size.
 *
 * Only a rule whose every alternative is a literal (inline, or a rule that is one literal) is
 * rewritten; every other rule is left as it was.
 */

/** Below this many alternatives the flat form costs nothing worth a rewrite. */
const MIN_ALTERNATIVES = 8;
/** A tree deeper than this (values with many branch points) stays flat rather than nest deeply. */
const MAX_DEPTH = 200;

const RULE_LINE = /^([a-zA-Z0-9-]+) ::= (.*)$/;
/** A rule name, read in place (sticky) rather than from a copy of the rest of the line. */
const NAME = /[a-zA-Z0-9-]+/y;

function nameAt(body: string, at: number): string | undefined {
  NAME.lastIndex = at;
  return NAME.exec(body)?.[0];
}

export function enumsAsPrefixTrees(grammar: string): string {
  const lines = grammar.split("\n");
  const literalRules = new Map<string, string>();
  for (const line of lines) {
    const match = RULE_LINE.exec(line);
    if (!match) continue;
    const tokens = tokenize(match[2] as string);
    if (tokens?.length === 1 && tokens[0]?.kind === "literal") literalRules.set(match[1] as string, tokens[0].text);
  }
  let changed = false;
  const out = lines.map((line) => {
    const match = RULE_LINE.exec(line);
    if (!match) return line;
    const values = literalAlternatives(match[2] as string, literalRules);
    if (!values || values.length < MIN_ALTERNATIVES) return line;
    const tree = prefixTree(values);
    if (tree === undefined) return line;
    changed = true;
    return `${match[1]} ::= ${tree}`;
  });
  return changed ? withoutUnusedLiteralRules(out, literalRules).join("\n") : grammar;
}

/** The lines less the one-literal rules (`valN`) no rule refers to any more, the tree having taken their text. */
function withoutUnusedLiteralRules(lines: readonly string[], literalRules: ReadonlyMap<string, string>): string[] {
  const used = new Set<string>();
  for (const line of lines) {
    const body = RULE_LINE.exec(line)?.[2];
    if (body !== undefined) for (const name of referencedNames(body)) used.add(name);
  }
  return lines.filter((line) => {
    const name = RULE_LINE.exec(line)?.[1];
    return name === undefined || !literalRules.has(name) || used.has(name) || name === "root";
  });
}

/** Every rule name a right-hand side mentions, outside its literals and character classes. */
function referencedNames(body: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (c === '"' || c === "[") {
      const close = c === '"' ? '"' : "]";
      i++;
      while (i < body.length && body[i] !== close) i += body[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    const name = nameAt(body, i);
    if (name) {
      names.push(name);
      i += name.length;
    } else {
      i++;
    }
  }
  return names;
}

type Token = { kind: "literal"; text: string } | { kind: "name"; name: string } | { kind: "punct"; char: string };

/** A rule's right-hand side as tokens, or undefined if it holds anything but literals, names, `(`, `|`, `)`. */
function tokenize(body: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (c === " ") {
      i++;
    } else if (c === "(" || c === ")" || c === "|") {
      tokens.push({ kind: "punct", char: c });
      i++;
    } else if (c === '"') {
      const literal = readLiteral(body, i);
      if (!literal) return undefined;
      tokens.push({ kind: "literal", text: literal.text });
      i = literal.end;
    } else {
      const name = nameAt(body, i);
      if (!name) return undefined;
      tokens.push({ kind: "name", name });
      i += name.length;
    }
  }
  return tokens;
}

/** The values of `( a | b | ... )` when every alternative is a literal or a one-literal rule. */
function literalAlternatives(body: string, literalRules: ReadonlyMap<string, string>): string[] | undefined {
  const tokens = tokenize(body);
  if (!tokens || tokens.length < 3) return undefined;
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (first?.kind !== "punct" || first.char !== "(" || last?.kind !== "punct" || last.char !== ")") return undefined;
  const values: string[] = [];
  for (let i = 1; i < tokens.length - 1; i++) {
    const token = tokens[i] as Token;
    if (i % 2 === 0) {
      if (token.kind !== "punct" || token.char !== "|") return undefined;
      continue;
    }
    if (token.kind === "literal") values.push(token.text);
    else if (token.kind === "name" && literalRules.has(token.name)) values.push(literalRules.get(token.name) as string);
    else return undefined;
  }
  // `( a | )` or a trailing `|` leaves an even count: not the shape written for an enum.
  return (tokens.length - 2) % 2 === 1 ? values : undefined;
}

const HEX = /^[0-9a-fA-F]+$/;

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', "[": "[", "]": "]" };

/** A GBNF string literal starting at `start` (its opening quote), decoded as llama.cpp reads it. */
function readLiteral(body: string, start: number): { text: string; end: number } | undefined {
  let text = "";
  let i = start + 1;
  while (i < body.length) {
    const c = body[i] as string;
    if (c === '"') return { text, end: i + 1 };
    if (c !== "\\") {
      text += c;
      i++;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return undefined;
    const hexLength = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 2, i + 2 + hexLength);
      if (hex.length !== hexLength || !HEX.test(hex)) return undefined;
      const codePoint = Number.parseInt(hex, 16);
      if (codePoint > 0x10ffff) return undefined;
      text += String.fromCodePoint(codePoint);
      i += 2 + hexLength;
    } else if (e in ESCAPES) {
      text += ESCAPES[e];
      i += 2;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** `text` as a GBNF string literal. */
function literal(text: string): string {
  let out = '"';
  for (const c of text) {
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if ((c.codePointAt(0) as number) < 0x20) out += `\\x${(c.codePointAt(0) as number).toString(16).padStart(2, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

interface TrieNode {
  terminal: boolean;
  children: Map<string, TrieNode>;
}

/** The values as one GBNF expression sharing every common prefix, or undefined if too deep. */
function prefixTree(values: readonly string[]): string | undefined {
  const root: TrieNode = { terminal: false, children: new Map() };
  for (const value of values) {
    let node = root;
    for (const c of value) {
      let next = node.children.get(c);
      if (!next) {
        next = { terminal: false, children: new Map() };
        node.children.set(c, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  return expression(root, 0);
}

/** What may follow `node`: each branch's run of single-child characters as one literal. */
function expression(node: TrieNode, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const branches: string[] = [];
  for (const [first, start] of node.children) {
    let label = first;
    let child = start;
    while (!child.terminal && child.children.size === 1) {
      const [c, next] = child.children.entries().next().value as [string, TrieNode];
      label += c;
      child = next;
    }
    if (child.children.size === 0) {
      branches.push(literal(label));
      continue;
    }
    const rest = expression(child, depth + 1);
    if (rest === undefined) return undefined;
    branches.push(`${literal(label)} ${rest}`);
  }
  if (node.terminal) return `( ${branches.join(" | ")} )?`;
  return branches.length === 1 ? (branches[0] as string) : `( ${branches.join(" | ")} )`;
}
