import type { Config } from "../config/schema.js";
import type { RequestContext } from "../core/index.js";
import {
  type BeforeUpstreamBody,
  type ChatRequest,
  EgressAuditError,
  errorOptionsOf,
  GatewayError,
  LocalOnlyRefusal,
  markStep,
} from "../core/index.js";
import {
  classifyRequestInSlices,
  detectorFor,
  headerSensitivity,
  type PrivacyDecision,
  type PrivacySettings,
  type RequestClassification,
  requestTextLength,
  SENSITIVITY_HEADER,
} from "../privacy/index.js";
import type { EgressRecord } from "../store/records.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { FailedAttempt } from "./attempt-log.js";
import type { Catalog, Target } from "./catalog.js";
import type { Plan } from "./plan.js";

/** Where the record of each request body that leaves the machine goes (the encrypted store). */
export interface EgressSink {
  /** Commits the body's audit row; resolves with its id once it is on disk, rejects when it cannot be. */
  auditEgress(record: EgressRecord): Promise<number>;
  /** Marks a row whose body was not sent after all (best-effort). */
  markEgressNotSent(id: number): void;
}

/** A request's privacy decision, with what its egress records need. */
export interface Privacy {
  route: string | undefined;
  decision: PrivacyDecision;
}

/** Kinds an error message keeps (see PrivacyGuard.withoutPrivateValues). */
const UNMASKED_IN_ERRORS = new Set(["ip_address", "token"]);

/** Requests with at least this many characters of text are classified and tokenized in slices. */
export const LARGE_REQUEST_TEXT = 512 * 1024;

export const DEFAULT_PRIVACY: Config["privacy"] = {
  default: "local-only",
  imagesArePrivate: true,
  patterns: [],
  keywords: [],
  disabled: [],
};

/**
 * The privacy side of routing: classifies a request, prunes a plan to its local targets when the
 * data must not leave, and gates every body sent to a cloud target on its egress-audit row.
 */
export class PrivacyGuard {
  readonly #catalog: Catalog;
  readonly #metrics: Metrics;
  readonly #privacy: Config["privacy"];
  readonly #egress: EgressSink | undefined;

  constructor(catalog: Catalog, metrics: Metrics, privacy: Config["privacy"], egress: EgressSink | undefined) {
    this.#catalog = catalog;
    this.#metrics = metrics;
    this.#privacy = privacy;
    this.#egress = egress;
  }

  /**
   * A large request's classification, made in slices that leave the event loop in between (a 32 MB
   * body takes about half a second to scan, which would hold every other client up), when it may be
   * needed: some target is remote and the client did not declare the request public. A same-wire
   * request (one with the client's own body) is classified so too, whatever its text's length: every
   * key of its body is read, and a body of a few hundred thousand small members takes as long as
   * megabytes of text. Other small requests are classified at once, in guard(), when the decision
   * needs it.
   */
  classifyLarge(
    plan: Plan,
    request: ChatRequest,
    headers: RequestContext["headers"],
  ): Promise<RequestClassification> | undefined {
    if (requestTextLength(request) < LARGE_REQUEST_TEXT && request.native === undefined) return undefined;
    if (plan.tiers.every((tier) => tier.every((t) => t.local))) return undefined;
    if (headerSensitivity(headers) === "public") return undefined;
    return classifyRequestInSlices(request, this.#privacy);
  }

  /**
   * Whether `text`, made after the request was classified (a summary of its history), holds a
   * sensitive value that the request's redaction has no placeholder for: such text must not go to a
   * cloud target on a redacting route (the value would leave as it is).
   */
  unredactable(text: string, privacy: Privacy | undefined): boolean {
    const redaction = privacy?.decision.redaction;
    if (redaction === undefined) return false;
    return detectorFor(this.#privacy)
      .detect(text)
      .some((finding) => redaction.placeholderFor(finding.value) === undefined);
  }

  /**
   * `error` with the sensitive values its message quotes replaced by their kind (`[email]`): an
   * upstream's error may quote the request it refused (FastAPI's 422s quote their input, proxies
   * the messages), and the message goes to the client, the log line, the attempt list and the
   * target's last error in /v1/status. Any target's, local ones too: a private request is sent
   * there as it is. IP addresses and bare high-entropy tokens are left (a network error's address,
   * an upstream's request id: what the user needs to see what failed).
   */
  withoutPrivateValues(error: GatewayError): GatewayError {
    // Subclasses (the audit's, a key pool's) carry no upstream text, and are told apart by their class.
    if (error.constructor !== GatewayError) return error;
    const message = error.message;
    const found = detectorFor(this.#privacy)
      .detect(message)
      .filter((finding) => !UNMASKED_IN_ERRORS.has(finding.kind));
    if (found.length === 0) return error;
    let masked = "";
    let at = 0;
    for (const finding of found) {
      if (finding.start < at) continue;
      masked += `${message.slice(at, finding.start)}[${finding.kind}]`;
      at = finding.end;
    }
    masked += message.slice(at);
    return new GatewayError(error.code, masked, { ...errorOptionsOf(error), cause: error });
  }

  /**
   * Applies the request's privacy decision to its plan. Nothing is scanned when every target is
   * local (nothing would leave the machine). Under `local-only` the cloud targets are taken out of
   * the plan, so no retry, failover, hedge or continuation can reach them; when no local target is
   * left the request is refused (403) rather than sent. `privacyRoute`: the route whose privacy
   * applies instead of the plan's own, for a request tandem makes on a client's behalf
   * (RequestContext.privacyRoute).
   */
  guard(
    plan: Plan,
    decide: (header: string | undefined, settings: PrivacySettings) => PrivacyDecision,
    headers: RequestContext["headers"],
    privacyRoute?: string,
  ): { plan: Plan; privacy: Privacy | undefined } {
    if (plan.tiers.every((tier) => tier.every((t) => t.local))) return { plan, privacy: undefined };
    const routeName = this.#routeName(privacyRoute) ?? plan.route;
    const route = routeName === undefined ? undefined : this.#catalog.routes.get(routeName);
    const header = headers[SENSITIVITY_HEADER];
    const decision = decide(Array.isArray(header) ? header[0] : header, {
      defaultPolicy: this.#privacy.default,
      routePolicy: route?.privacy,
      routeSensitivity: route?.sensitivity,
      imagesArePrivate: route?.imagesArePrivate ?? this.#privacy.imagesArePrivate,
      detection: this.#privacy,
    });
    this.#metrics.privacyDecisions.inc({ route: routeName ?? "", sensitivity: decision.sensitivity, policy: decision.policy });
    const privacy = { route: routeName, decision };
    if (decision.policy !== "local-only") return { plan, privacy };
    const skipped: FailedAttempt[] = [];
    const tiers = plan.tiers
      .map((tier) =>
        tier.filter((t) => {
          if (!t.local)
            skipped.push({ target: t.name, code: "local_only", message: "private data stays on this machine", ms: 0 });
          return t.local;
        }),
      )
      .filter((tier) => tier.length > 0);
    if (tiers.length === 0) {
      this.#metrics.privacyRefusals.inc({ route: routeName ?? "" });
      const where = plan.route === undefined ? `'${plan.name}' is a cloud target` : `route '${plan.route}' has no local target`;
      const advice =
        decision.advice ??
        "Use a route with a local model, set the route's privacy to redact or allow, or send " +
          `'${SENSITIVITY_HEADER}: public' if this data may leave the machine.`;
      throw new LocalOnlyRefusal(
        `This request is private (${decision.reason}) and private data stays on this machine, but ${where}. ${advice}`,
      );
    }
    return { plan: { ...plan, tiers, unresolved: [...plan.unresolved, ...skipped] }, privacy };
  }

  /** The route a request made on a client's behalf follows (its model name resolved), if it names one. */
  #routeName(model: string | undefined): string | undefined {
    if (model === undefined) return undefined;
    try {
      const resolved = this.#catalog.resolve(model);
      return resolved.kind === "route" ? resolved.name : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The egress audit's gate for a cloud target (none for local targets): each body's row is committed
   * before the body is sent, and a body whose row cannot be committed is not sent (EgressAuditError).
   */
  egressHook(target: Target, privacy: Privacy | undefined): { beforeUpstreamBody?: BeforeUpstreamBody } {
    const sink = this.#egress;
    if (target.local || privacy === undefined || sink === undefined) return {};
    const { decision, route } = privacy;
    const redactions = decision.redaction?.summary().byKind ?? {};
    return {
      beforeUpstreamBody: async (body) => {
        markStep("audit");
        let id: number;
        try {
          id = await sink.auditEgress({
            target: target.name,
            ...(route !== undefined && { route }),
            sensitivity: decision.sensitivity,
            redactions,
            body,
          });
        } catch (err) {
          throw new EgressAuditError(target.name, auditFailure(err), err, (err as { transient?: unknown })?.transient === true);
        }
        markStep("audited");
        return { notSent: () => sink.markEgressNotSent(id) };
      },
    };
  }
}

/** Why an audit row could not be committed, in words without the store's path (the message reaches clients). */
function auditFailure(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case "disk_full":
      return "the disk is full";
    case "closed":
      return "the store is closed";
    case "busy":
      return "another process holds the store's lock";
    case "corrupt":
      return "the store is damaged";
    case "io":
      return "the store could not write to the disk";
    default:
      return `the store failed${typeof code === "string" ? ` (${code})` : ""}`;
  }
}
