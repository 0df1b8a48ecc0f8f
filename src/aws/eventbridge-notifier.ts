import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Notice, RunNotifier } from '../core/ports.js';

/** The `detail-type` of each notice, for EventBridge rules to match on. */
export const detailTypes: Record<Notice['status'], string> = {
  failed: 'Tickwork Run Failed',
  'timed-out': 'Tickwork Run Timed Out',
  skipped: 'Tickwork Run Skipped',
  missed: 'Tickwork Run Missed',
  overdue: 'Tickwork Task Overdue',
};

/** A notice as an event's `detail`: its fields, instants in ISO 8601 UTC (`Date.toJSON`). */
export function detailOf(notice: Notice): string {
  return JSON.stringify(notice);
}

/**
 * Puts one EventBridge event (`source: tickwork`) per notice on the given bus, ten per request
 * (the PutEvents limit). Delivery is best effort: a failure is reported to `onError`, never
 * thrown, so alerting can never fail a tick or a run.
 */
export class EventBridgeRunNotifier implements RunNotifier {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async notify(notices: Notice[]): Promise<void> {
    for (let i = 0; i < notices.length; i += 10) {
      const batch = notices.slice(i, i + 10);
      try {
        const out = await this.client.send(
          new PutEventsCommand({
            Entries: batch.map((n) => ({
              EventBusName: this.eventBusName,
              Source: 'tickwork',
              DetailType: detailTypes[n.status],
              Detail: detailOf(n),
            })),
          }),
        );
        if (out.FailedEntryCount)
          this.onError(new Error(`${out.FailedEntryCount} notice(s) were not accepted`));
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
