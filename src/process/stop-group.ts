// Stopping a process group that may hold locks: SIGTERM first, so git (and anything else that
// cleans up on it) removes its lock files (a SIGKILL leaves a ref locked on a local server), then
// SIGKILL to the whole group after a grace period, even when the leader died of the SIGTERM: a
// helper of it may not have.

/** How long a stopped group gets to clean up before SIGKILL. */
export const STOP_GRACE_MS = 2000;

export function stopGroup(pid: number, graceMs = STOP_GRACE_MS): void {
  try { process.kill(-pid, 'SIGTERM'); } catch { /* the group is gone */ }
  setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* the group is gone */ } }, graceMs).unref();
}
