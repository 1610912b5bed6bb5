/**
 * A progress bar for long local work, drawn on stderr only when it is a terminal; in CI
 * and in pipes it stays silent, so logs hold results rather than redraws.
 */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) return { update: () => undefined, finish: () => undefined };
  const width = 30;
  let last = -1;
  const draw = (done: number) => {
    const share = Math.min(1, done / total);
    const percent = Math.floor(share * 100);
    if (percent === last) return;
    last = percent;
    const filled = Math.round(share * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(percent).padStart(3)}%`);
  };
  return {
    update: draw,
    finish: () => {
      draw(total);
      stream.write('\n');
    },
  };
}
