/**
 * Progress for a person at a terminal (one line rewritten in place) or for a log (a plain line
 * every few seconds, so a CI log or `2> file` stays readable).
 */
export function progressWriter(stream: NodeJS.WriteStream, plainEveryMs = 5000): { update(text: string): void; done(): void } {
  const tty = stream.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      if (tty) {
        stream.write(`\r\x1b[K${text}`);
        shown = true;
      } else if (Date.now() - last >= plainEveryMs) {
        last = Date.now();
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (shown) stream.write('\n');
      shown = false;
    },
  };
}
