import { useState, type ReactNode } from 'react';

interface Props {
  value: string;
  onSubmit: (value: string) => void;
  placeholder: string;
  label: string;
  wide?: boolean;
}

/** A text box that commits on Enter, so each search is one URL change and one request. */
export function SearchInput({ value, onSubmit, placeholder, label, wide }: Props): ReactNode {
  const [draft, setDraft] = useState(value);
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    // The URL changed under us (back button, link): show its value.
    setSeen(value);
    setDraft(value);
  }
  return (
    <form
      className={wide ? 'search wide' : 'search'}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(draft.trim());
      }}
    >
      <input
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        placeholder={placeholder}
        aria-label={label}
        spellCheck={false}
      />
      <button type="submit">Search</button>
    </form>
  );
}
