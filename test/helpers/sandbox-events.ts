/**
 * Real webhook deliveries from an in-process sandbox, captured raw: a registration pointing at a
 * local receiver, a change, and the requests as they arrived (headers and body bytes).
 */
import type { Sandbox } from '../../sandbox/sandbox.js';
import { accessToken, type RawResponse, send } from './sandbox-http.js';
import { type Received, Receiver } from './webhook-receiver.js';

const REGISTRATION = '/webhooks/v1/registration';

export class SandboxEvents {
  private constructor(
    private readonly sandbox: Sandbox,
    private readonly token: string,
    readonly receiver: Receiver,
  ) {}

  static async start(sandbox: Sandbox): Promise<SandboxEvents> {
    const { accessToken: token } = await accessToken(sandbox);
    return new SandboxEvents(sandbox, token, await Receiver.start());
  }

  /**
   * Registers for `events` (replacing any registration), runs `change` and returns the `count`
   * requests it caused, once the sandbox has settled them.
   */
  async capture(
    events: readonly string[],
    count: number,
    change: () => unknown,
    extra: Record<string, unknown> = {},
  ): Promise<Received[]> {
    await this.call('DELETE', REGISTRATION);
    const registered = await this.call('POST', REGISTRATION, {
      WebhookUrl: this.receiver.url,
      WebhookEvents: events,
      ...extra,
    });
    if (registered.status !== 200) throw new Error(`registration failed: HTTP ${registered.status}`);
    const deliveries = this.sandbox.webhookDeliveries;
    const target = deliveries.settledCount + count;
    const before = this.receiver.received.length;
    await change();
    if (!(await deliveries.waitForSettled(target, 20_000))) throw new Error(`${count} events did not settle`);
    return this.receiver.received.slice(before);
  }

  /** A referral-updated event for each of `updates` referrals the sandbox changes. */
  updates(updates: number, extra: Record<string, unknown> = {}): Promise<Received[]> {
    return this.capture(['referral-updated'], updates, () => this.sandbox.mutate(updates), extra);
  }

  /** The validation event (test-created), as POST …/validationEvents sends it (2 a minute). */
  testEvent(): Promise<Received[]> {
    return this.capture(['test-created'], 1, () => this.call('POST', `${REGISTRATION}/validationEvents`));
  }

  async close(): Promise<void> {
    await this.call('DELETE', REGISTRATION);
    await this.receiver.close();
  }

  private call(method: string, path: string, body?: unknown): Promise<RawResponse> {
    return send(this.sandbox, `${this.sandbox.env.PARTNER_CENTER_WEBHOOKS_BASE_URL}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
