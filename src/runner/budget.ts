// --budget-usd: the runner cannot stop an agent mid-call without wasting what it already paid for,
// so the budget gates *starts*: a new attempt starts only if the spent total plus what an attempt
// costs on average so far stays within the limit. Running attempts always finish.

export class Budget {
  readonly limitUsd: number | undefined;
  private spent = 0;
  private attemptsWithCost = 0;
  private stopped = false;

  constructor(limitUsd: number | undefined) {
    this.limitUsd = limitUsd;
  }

  get spentUsd(): number {
    return this.spent;
  }

  /** True once a start was refused: the run ends without starting anything else. */
  get exhausted(): boolean {
    return this.stopped;
  }

  record(costUsd: number | undefined): void {
    if (costUsd === undefined || !Number.isFinite(costUsd) || costUsd < 0) return;
    this.spent += costUsd;
    this.attemptsWithCost++;
  }

  /** Expected cost of the next attempt: the mean so far (0 before any attempt reported a cost). */
  get expectedAttemptUsd(): number {
    return this.attemptsWithCost === 0 ? 0 : this.spent / this.attemptsWithCost;
  }

  allowsStart(): boolean {
    if (this.limitUsd === undefined) return true;
    if (this.stopped) return false;
    if (this.spent + this.expectedAttemptUsd > this.limitUsd || this.spent >= this.limitUsd) {
      this.stopped = true;
      return false;
    }
    return true;
  }
}
