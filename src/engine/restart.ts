/**
 * Restart policies as moby's restartmanager applies them: whether an exited container starts again, and after
 * how long (back-off doubling from 100 ms up to 1 minute, back to 100 ms once a run lasted 10 s).
 */
export interface RestartPolicy { Name: string; MaximumRetryCount: number }

/** Per-container restart state (in memory, as in dockerd). */
export interface RestartState {
  /** The last back-off, ms (0: none yet). */
  backoffMs: number;
  /** A stop or kill asked for this exit: no restart (moby's ExitOnNext). */
  canceled: boolean;
  /** The pending restart, while the container is Restarting. */
  timer?: NodeJS.Timeout | undefined;
}

export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
const RESET_AFTER_MS = 10_000;

/** Does this exit call for a restart? `restartCount`: restarts so far (on-failure's bound). */
export function shouldRestart(policy: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  switch (policy?.Name) {
    case 'always': return true;
    case 'unless-stopped': return !manuallyStopped;
    case 'on-failure': {
      const max = policy.MaximumRetryCount;
      return exitCode !== 0 && (max === 0 || restartCount < max);
    }
    default: return false;
  }
}

/** The next back-off after a run of `ranMs`. */
export function nextBackoff(prevMs: number, ranMs: number): number {
  const prev = ranMs >= RESET_AFTER_MS ? 0 : prevMs;
  return prev === 0 ? BACKOFF_MIN_MS : Math.min(prev * 2, BACKOFF_MAX_MS);
}

/** At daemon start, for a container that is not running: start it again? (moby's ShouldRestart on boot) */
export function restartOnBoot(policy: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  if (policy?.Name === 'always') return true;
  return shouldRestart(policy, exitCode, manuallyStopped, restartCount);
}
