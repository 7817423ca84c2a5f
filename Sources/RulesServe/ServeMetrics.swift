import Foundation
import Logging
import Metrics
import Prometheus
import RulesEngine
import RulesForward

/// The live collector's metrics for `GET /metrics`, in swift-prometheus's registry: every family is
/// made from one catalogue with its help text (`promtool check metrics` refuses families without
/// one, and the registry refuses two texts for one name, so families are not made through
/// swift-metrics, whose factory gives none). swift-metrics is bootstrapped to the same registry for
/// what libraries record. Keys and tokens never appear in labels.
public final class ServeMetrics: @unchecked Sendable {
  public let registry = PrometheusCollectorRegistry()
  /// Where the pipeline's warnings go (the server's logger).
  public var logger = Logger(label: "rulec")
  private let lock = NSLock()
  private var last = ForwardStats()
  private var lastDropped = 0

  /// Every family's help text, by name.
  static let catalogue: [String: String] = [
    "rulec_events_total": "Successful outputs of a watched model offered to the collector.",
    "rulec_accepted_total": "Inputs the pre-queue stage accepted and queued; one already queued or delivered is rulec_already_queued_total.",
    "rulec_already_queued_total": "Inputs accepted again while already queued or delivered, so not queued twice.",
    "rulec_statement_total": "Inputs each statement passed or dropped, by stage and line of the statement in its rule file.",
    "rulec_unrouted_events_total": "Successful outputs of models no collector watches.",
    "rulec_collected_outputs_total": "What collect_outputs copied onto accepted inputs: items with concepts, and regions (annotations).",
    "rulec_queue_depth": "Items queued or being delivered, read when the metrics are scraped.",
    "rulec_paused_collectors": "Collectors whose key cannot post; their items wait for a reload.",
    "rulec_forward_requests_total": "PostInputs and PostAnnotations requests sent.",
    "rulec_forward_retries_total": "Items whose delivery will be tried again.",
    "rulec_forward_failures_total": "Requests that failed as a whole: unreachable, retried (an answer to try later) or paused (a key that cannot post).",
    "rulec_dead_letters_total": "Items the destination refused for ever, kept as dead letters.",
    "rulec_delivered_total": "Inputs the destination has.",
    "rulec_annotations_delivered_total": "Annotations of collected regions the destination has.",
    "rulec_post_queue_dropped_total": "Items the post-queue stage dropped when they left the queue.",
    "rulec_forward_request_seconds": "Time of each request to a destination.",
    "rulec_proxy_requests_total": "Calls passed upstream by rulec proxy, PostModelOutputs or other.",
    "rulec_proxy_upstream_failures_total": "Calls the upstream did not answer (502 or 504 to the caller).",
    "rulec_proxy_collection_failures_total": "Answers not collected, by stage (overflow, read, record, rules, queue); the calls succeeded.",
    "rulec_proxy_outputs_total": "Outputs of PostModelOutputs answers offered to the collectors.",
    "rulec_proxy_added_seconds": "Time rulec proxy added to a call: its handling less the upstream's answer.",
  ]

  static func help(_ name: String) -> String {
    guard let help = catalogue[name] else { preconditionFailure("metric \(name) is not in ServeMetrics.catalogue") }
    return help
  }

  let depth: Prometheus.Gauge
  let paused: Prometheus.Gauge
  let forwardLatency: DurationHistogram
  private let proxyAddedTime: DurationHistogram

  /// Makes the registry the process's swift-metrics backend too (once per process).
  public init(bootstrap: Bool) {
    if bootstrap { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
    depth = registry.makeGauge(descriptor: Self.descriptor("rulec_queue_depth"))
    paused = registry.makeGauge(descriptor: Self.descriptor("rulec_paused_collectors"))
    let buckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
      .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
    forwardLatency = registry.makeDurationHistogram(descriptor: Self.descriptor("rulec_forward_request_seconds"), buckets: buckets)
    proxyAddedTime = registry.makeDurationHistogram(descriptor: Self.descriptor("rulec_proxy_added_seconds"), buckets: buckets)
    // The unlabelled counters exist from the start, at 0.
    for name in [
      "rulec_forward_requests_total", "rulec_forward_retries_total", "rulec_dead_letters_total", "rulec_delivered_total",
      "rulec_annotations_delivered_total", "rulec_post_queue_dropped_total", "rulec_unrouted_events_total",
    ] {
      _ = counter(name)
    }
  }

  /// A family's full name with its help text (no namespace or unit parts: the names are whole
  /// already, and an empty part is left out of the joined name).
  static func descriptor(_ name: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help(name))
  }

  /// Counters made so far, by name and labels: the registry validates the name, the labels and the
  /// help text on every `makeCounter`, which ingest would pay per event and statement.
  private var counters: [String: Prometheus.Counter] = [:]
  private let countersLock = NSLock()

  func counter(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Counter {
    let key = labels.reduce(name) { $0 + "|" + $1.0 + "=" + $1.1 }
    return countersLock.withLock {
      if let made = counters[key] { return made }
      let made =
        labels.isEmpty
        ? registry.makeCounter(descriptor: Self.descriptor(name))
        : registry.makeCounter(descriptor: Self.descriptor(name), labels: labels)
      counters[key] = made
      return made
    }
  }

  /// The text `GET /metrics` answers, with the queue's depth read now (a gauge set only by the
  /// forwarding loop lagged seconds behind ingest).
  public func exposition(queueDepth: Int?) -> [UInt8] {
    if let queueDepth { depth.set(Double(queueDepth)) }
    return registry.emitToBuffer()
  }

  // MARK: rulec proxy

  func proxyRequest(predict: Bool) { counter("rulec_proxy_requests_total", [("call", predict ? "post_model_outputs" : "other")]).increment() }
  func proxyUpstreamFailure() { counter("rulec_proxy_upstream_failures_total").increment() }
  func proxyCollectionFailure(_ stage: String) { counter("rulec_proxy_collection_failures_total", [("stage", stage)]).increment() }
  func proxyOutputs(_ count: Int) { counter("rulec_proxy_outputs_total").increment(by: Int64(count)) }
  /// Time the proxy added to a call: its whole handling less the upstream's answer.
  func proxyAdded(_ duration: Duration) { proxyAddedTime.record(duration) }

  // MARK: Ingest

  func unrouted(_ count: Int) { counter("rulec_unrouted_events_total").increment(by: Int64(count)) }
  func event(collector: String) { counter("rulec_events_total", [("collector", collector)]).increment() }
  func accepted(collector: String, queued: Bool) {
    counter(queued ? "rulec_accepted_total" : "rulec_already_queued_total", [("collector", collector)]).increment()
  }
  /// One statement's outcome, labelled by where it is written (`pre_queue`, line 12).
  func statement(collector: String, _ statement: RunReport.StatementCount, passed: Bool) {
    counter(
      "rulec_statement_total",
      [("collector", collector), ("stage", statement.stage.rawValue), ("line", String(statement.line)), ("outcome", passed ? "passed" : "dropped")]
    ).increment()
  }

  /// What `collect_outputs` copied onto accepted inputs: items with concepts, and regions.
  func collected(collector: String, itemsWithConcepts: Int, regions: Int) {
    if itemsWithConcepts > 0 {
      counter("rulec_collected_outputs_total", [("collector", collector), ("kind", "concepts")]).increment(by: Int64(itemsWithConcepts))
    }
    if regions > 0 { counter("rulec_collected_outputs_total", [("collector", collector), ("kind", "regions")]).increment(by: Int64(regions)) }
  }

  // MARK: Forwarding

  /// A forwarding request that failed as a whole: `unreachable`, `retried` or `paused`.
  func forwardProblem(_ kind: String) { counter("rulec_forward_failures_total", [("kind", kind)]).increment() }

  /// Brings the forwarding counters up to date with the forwarder's running totals.
  func forwarded(_ stats: ForwardStats, droppedAtDequeue dropped: Int, queueDepth: Int) {
    lock.withLock {
      counter("rulec_forward_requests_total").increment(by: Int64(stats.requests - last.requests))
      counter("rulec_forward_retries_total").increment(by: Int64(stats.retried - last.retried))
      counter("rulec_dead_letters_total").increment(by: Int64(stats.deadLettered - last.deadLettered))
      counter("rulec_delivered_total").increment(by: Int64(stats.delivered - last.delivered))
      counter("rulec_annotations_delivered_total").increment(by: Int64(stats.annotationsDelivered - last.annotationsDelivered))
      counter("rulec_post_queue_dropped_total").increment(by: Int64(dropped - lastDropped))
      last = stats
      lastDropped = dropped
    }
    depth.set(Double(queueDepth))
    paused.set(Double(stats.paused.count))
  }
}
