import { Presets, SingleBar } from 'cli-progress';
import type { UploadProgress } from '@mrw/client';
import { bytes } from './render';

/**
 * A progress bar on stderr for an upload, or nothing. Shown when stderr is a terminal or when
 * `--progress` forces it (then, off a terminal, one line every quarter second); never with
 * `--json` or `--no-progress`, so scripts' output stays clean.
 */
export const uploadProgress = (
  label: string,
  options: { json: boolean; progress: boolean | undefined },
): { onProgress?: (p: UploadProgress) => void; done: () => void } => {
  const tty = process.stderr.isTTY === true;
  const show = !options.json && (options.progress === true || (options.progress === undefined && tty));
  if (!show) return { done: () => undefined };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {sent} of {size} | {speed}/s`,
      barsize: 30,
      hideCursor: tty,
      noTTYOutput: !tty,
      notTTYSchedule: 250,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  return {
    onProgress: ({ sent, total }) => {
      const speed = bytes(Math.round(sent / Math.max((Date.now() - started) / 1000, 0.001)));
      if (!running) {
        bar.start(total, sent, { sent: bytes(sent), size: bytes(total), speed });
        running = true;
      } else {
        bar.update(sent, { sent: bytes(sent), speed });
      }
    },
    done: () => {
      if (running) bar.stop();
      running = false;
    },
  };
};
