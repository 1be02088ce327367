/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away (`crm sql … | head -1`). */
export const BROKEN_PIPE = 141;

export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * Exits once stdout and stderr have handed all they hold to the OS. process.exit() alone drops
 * what is still queued for a pipe: that is how a large `crm sql | reader` lost rows.
 */
export function exitWhenFlushed(code: number): void {
  const streams = [process.stdout, process.stderr];
  let pending = streams.length;
  const flushed = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  // A write is done only after every write before it: an empty one marks the end of what is queued.
  for (const stream of streams) {
    if (stream.destroyed || stream.writableLength === 0) flushed();
    else stream.write('', flushed);
  }
}

/**
 * A reader that closes the pipe early (`| head`) ends `crm` quietly with BROKEN_PIPE, as it
 * would end a Unix tool; without a listener Node would throw the EPIPE with a stack trace.
 */
export function exitQuietlyOnBrokenPipe(onOtherError: (error: Error) => void): void {
  process.stdout.on('error', (error) => {
    if (isBrokenPipe(error)) return exitWhenFlushed(BROKEN_PIPE);
    onOtherError(error);
  });
}
