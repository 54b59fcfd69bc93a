/** Collects the metrics that are undefined (NaN) or ill-defined (a convention value) on the data. */
export class UndefinedMetrics {
  readonly names: string[] = [];
  readonly reasons: Record<string, string> = {};

  add(metric: string, reason: string): void {
    if (metric in this.reasons) return;
    this.names.push(metric);
    this.reasons[metric] = reason;
  }
}
