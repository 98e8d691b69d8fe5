/**
 * Faults the sandbox injects into the Referrals API and its webhook deliveries, chosen per run and
 * reproducible by seed: each decision is a function of (seed, fault, API request number or webhook
 * event number), so the same run meets the same faults.
 *
 * CLI form (comma-separated, each `name` or `name(key=value,…)`):
 *   429(rate=0.2,retryAfter=1,max=5)   throttle: 429 + Retry-After seconds
 *   5xx(rate=0.05,burst=3,status=503)   a burst of consecutive 500/503 answers
 *   latency(ms=200,jitter=50)           per-page delay
 *   reset(rate=0.02)                    connection reset mid-body
 *   malformed(rate=0.01)                a 200 page whose JSON is cut short
 *   repeat-nextlink(page=5)             from the 5th page of a pass on, nextLink repeats the current link
 *   token-expiry(every=20)              every 20th API request, all access tokens issued so far expire
 *   mutate(updates=5,creates=1)         after each page, 5 referrals are updated and 1 created
 *   webhook-delay(ms=500,jitter=100)    each webhook event waits before its first delivery attempt
 *   webhook-duplicate(rate=0.2)         an event is delivered twice (or every=3: every third event);
 *                                       late=3000: the copy follows 3 s after its original, as
 *                                       Partner Center's retry after a lost answer would
 *   webhook-reorder(hold=3,ms=1000)     events are held until 3 wait (or 1 s passed), then sent newest first
 *   webhook-drop(rate=0.1)              an event is never sent (lost, as to Partner Center's offline queue)
 * `max=N` on any rate fault caps how many times it fires in the run.
 */
import { z } from 'zod';
import { hashUnit } from './random.js';

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);
const max = count.optional();

export const faultPlanSchema = z
  .object({
    throttle: z.object({ rate, retryAfter: z.number().min(0).default(1), max }).optional(),
    serverError: z
      .object({
        rate,
        burst: z.number().int().min(1).default(3),
        status: z.union([z.literal(500), z.literal(503)]).default(503),
        max,
      })
      .optional(),
    latency: z.object({ ms: z.number().min(0), jitter: z.number().min(0).default(0) }).optional(),
    reset: z.object({ rate, max }).optional(),
    malformed: z.object({ rate, max }).optional(),
    repeatNextLink: z.object({ page: z.number().int().min(1) }).optional(),
    tokenExpiry: z.object({ every: z.number().int().min(1) }).optional(),
    mutate: z.object({ updates: count.default(1), creates: count.default(0) }).optional(),
    webhookDelay: z.object({ ms: z.number().min(0), jitter: z.number().min(0).default(0) }).optional(),
    webhookDuplicate: z
      .object({
        rate: rate.optional(),
        every: z.number().int().min(1).optional(),
        max,
        /** The copy is released this many ms after its original (0: with it). */
        late: z.number().min(0).default(0),
      })
      .refine((d) => d.rate !== undefined || d.every !== undefined, 'give rate or every')
      .optional(),
    webhookReorder: z
      .object({ hold: z.number().int().min(2).default(3), ms: z.number().min(0).default(1000) })
      .optional(),
    webhookDrop: z.object({ rate, max }).optional(),
  })
  .strict();

export type FaultPlan = z.infer<typeof faultPlanSchema>;

/** CLI fault names → plan keys. */
const NAMES: Readonly<Record<string, keyof FaultPlan>> = {
  '429': 'throttle',
  throttle: 'throttle',
  '5xx': 'serverError',
  latency: 'latency',
  reset: 'reset',
  malformed: 'malformed',
  'repeat-nextlink': 'repeatNextLink',
  'token-expiry': 'tokenExpiry',
  mutate: 'mutate',
  'webhook-delay': 'webhookDelay',
  'webhook-duplicate': 'webhookDuplicate',
  'webhook-reorder': 'webhookReorder',
  'webhook-drop': 'webhookDrop',
};

/** Parses the CLI form described above; throws an Error naming the bad part. */
export function parseFaultSpec(spec: string): FaultPlan {
  const plan: Record<string, Record<string, number>> = {};
  for (const part of splitTopLevel(spec)) {
    const m = /^([a-z0-9-]+)(?:\((.*)\))?$/i.exec(part.trim());
    const key = m?.[1] ? NAMES[m[1].toLowerCase()] : undefined;
    if (!m || !key) {
      throw new Error(`unknown fault '${part.trim()}'; known: ${Object.keys(NAMES).join(', ')}`);
    }
    plan[key] = parseArguments(m[2] ?? '', part);
  }
  const parsed = faultPlanSchema.safeParse(plan);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`fault spec '${spec}': ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

function splitTopLevel(spec: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of spec) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}

function parseArguments(text: string, part: string): Record<string, number> {
  const args: Record<string, number> = {};
  for (const pair of text.split(',').filter((p) => p.trim() !== '')) {
    const [name, value] = pair.split('=').map((s) => s.trim());
    const n = Number(value);
    if (!name || value === undefined || !Number.isFinite(n)) {
      throw new Error(`fault '${part.trim()}': '${pair.trim()}' is not name=number`);
    }
    args[name] = n;
  }
  return args;
}

export type FaultDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  | { readonly kind: 'serverError'; readonly status: 500 | 503 }
  | { readonly kind: 'reset' }
  | { readonly kind: 'malformed' };

/** Counts of what was injected, for tests and the sandbox's stats endpoint. */
export interface FaultCounts {
  throttle: number;
  serverError: number;
  reset: number;
  malformed: number;
  repeatNextLink: number;
  tokenExpiry: number;
  mutations: number;
  webhookDelayed: number;
  webhookDuplicated: number;
  /** Events sent in another order than they were emitted. */
  webhookReordered: number;
  webhookDropped: number;
}

export class FaultInjector {
  private burstLeft = 0;
  readonly counts: FaultCounts = {
    throttle: 0,
    serverError: 0,
    reset: 0,
    malformed: 0,
    repeatNextLink: 0,
    tokenExpiry: 0,
    mutations: 0,
    webhookDelayed: 0,
    webhookDuplicated: 0,
    webhookReordered: 0,
    webhookDropped: 0,
  };

  constructor(
    private plan: FaultPlan,
    private readonly seed: number,
  ) {}

  get current(): FaultPlan {
    return this.plan;
  }

  replace(plan: FaultPlan): void {
    this.plan = plan;
    this.burstLeft = 0;
  }

  /** Delay before answering API request number n. */
  latencyMs(n: number): number {
    const latency = this.plan.latency;
    if (!latency) return 0;
    return latency.ms + hashUnit(this.seed, 'latency', n) * latency.jitter;
  }

  /** Whether every access token should expire before API request n is checked. */
  expiresTokensAt(n: number): boolean {
    const every = this.plan.tokenExpiry?.every;
    if (!every || n % every !== 0) return false;
    this.counts.tokenExpiry++;
    return true;
  }

  /** What goes wrong with API request n, if anything. Checked in a fixed order so runs repeat. */
  decide(n: number): FaultDecision {
    const { throttle, serverError, reset, malformed } = this.plan;
    if (serverError && (this.burstLeft > 0 || this.fires('serverError', serverError, n, this.counts.serverError))) {
      this.burstLeft = this.burstLeft > 0 ? this.burstLeft - 1 : serverError.burst - 1;
      this.counts.serverError++;
      return { kind: 'serverError', status: serverError.status };
    }
    if (throttle && this.fires('throttle', throttle, n, this.counts.throttle)) {
      this.counts.throttle++;
      return { kind: 'throttle', retryAfterSeconds: throttle.retryAfter };
    }
    if (reset && this.fires('reset', reset, n, this.counts.reset)) {
      this.counts.reset++;
      return { kind: 'reset' };
    }
    if (malformed && this.fires('malformed', malformed, n, this.counts.malformed)) {
      this.counts.malformed++;
      return { kind: 'malformed' };
    }
    return { kind: 'none' };
  }

  /** True when a pass at this page number should get its current link back as nextLink. */
  repeatsNextLink(page: number): boolean {
    const from = this.plan.repeatNextLink?.page;
    if (from === undefined || page < from) return false;
    this.counts.repeatNextLink++;
    return true;
  }

  mutationsPerPage(): { updates: number; creates: number } | undefined {
    return this.plan.mutate;
  }

  /** Whether webhook event n is lost before its first attempt. */
  dropsWebhook(n: number): boolean {
    const drop = this.plan.webhookDrop;
    if (!drop || !this.fires('webhookDrop', drop, n, this.counts.webhookDropped)) return false;
    this.counts.webhookDropped++;
    return true;
  }

  /** Whether webhook event n is delivered twice: if so, how many ms after the original its copy is released. */
  duplicatesWebhook(n: number): { readonly lateMs: number } | undefined {
    const duplicate = this.plan.webhookDuplicate;
    if (!duplicate) return undefined;
    if (duplicate.max !== undefined && this.counts.webhookDuplicated >= duplicate.max) return undefined;
    const every = duplicate.every !== undefined && n % duplicate.every === 0;
    const byRate = duplicate.rate !== undefined && hashUnit(this.seed, 'webhookDuplicate', n) < duplicate.rate;
    if (!every && !byRate) return undefined;
    this.counts.webhookDuplicated++;
    return { lateMs: duplicate.late };
  }

  /** Delay before webhook event n's first attempt. */
  webhookDelayMs(n: number): number {
    const delay = this.plan.webhookDelay;
    if (!delay) return 0;
    this.counts.webhookDelayed++;
    return delay.ms + hashUnit(this.seed, 'webhookDelay', n) * delay.jitter;
  }

  /** How events are held back to be released out of order, when they are. */
  webhookReorder(): { readonly hold: number; readonly ms: number } | undefined {
    return this.plan.webhookReorder;
  }

  private fires(name: string, fault: { rate: number; max?: number | undefined }, n: number, fired: number): boolean {
    if (fault.max !== undefined && fired >= fault.max) return false;
    return hashUnit(this.seed, name, n) < fault.rate;
  }
}
