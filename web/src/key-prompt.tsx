import { useState } from "preact/hooks";

interface KeyPromptProps {
  /** Why the key is asked for again (a refused key), as text. */
  error: string | undefined;
  onKey(key: string): void;
}

/** Asks for a client key (server.apiKeys); the caller checks it and keeps it for this tab. */
export function KeyPrompt({ error, onKey }: KeyPromptProps) {
  const [value, setValue] = useState("");
  return (
    <form
      class="key-prompt"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim() !== "") onKey(value.trim());
      }}
    >
      <h2>This tandem needs a key</h2>
      <p>
        Enter one of the client keys of <code>server.apiKeys</code>. It is kept in this tab only (session storage) and sent as a
        bearer header.
      </p>
      <label>
        API key{" "}
        <input
          type="password"
          name="api-key"
          autocomplete="off"
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
          autofocus
        />
      </label>{" "}
      <button type="submit">Open the console</button>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
