import { Fragment, type ReactNode } from 'react';

/**
 * A key that may wrap only after its separators (`_ / . -`), so `training_accuracy_score`
 * breaks as `training_accuracy_` / `score`, never mid-word.
 */
export function Breakable({ text }: { text: string }): ReactNode {
  const parts = text.split(/(?<=[_/.\-:])/);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && <wbr />}
        </Fragment>
      ))}
    </>
  );
}
