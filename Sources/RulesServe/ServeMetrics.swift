import Foundation
import Logging
import Metrics
import Prometheus
import RulesForward

/// The live collector's metrics, through swift-metrics with the Prometheus backend, for `GET /metrics`:
/// events in and accepted per collector, passed and dropped per statement, queue depth, forward
/// latency, retries, dead letters and paused collectors. Keys and tokens never appear in labels.
public final class ServeMetrics: @unchecked Sendable {
  public let registry = PrometheusCollectorRegistry()
  private let lock = NSLock()
  private var counters: [String: Metrics.Counter] = [:]
  private let depth: Metrics.Gauge
  private let paused: Metrics.Gauge
  private let requests: Metrics.Counter
  private let retries: Metrics.Counter
  private let deadLetters: Metrics.Counter
  private let delivered: Metrics.Counter
  private let annotationsDelivered: Metrics.Counter
  private let droppedAtDequeue: Metrics.Counter
  private let unroutedEvents: Metrics.Counter
  /// Where the pipeline's warnings go (the server's logger).
  public var logger = Logger(label: "rulec")
  let forwardLatency: Metrics.Timer
  private let proxyAddedTimer = Metrics.Timer(label: "rulec_proxy_added_seconds")
  private var last = ForwardStats()
  private var lastDropped = 0

  /// Makes the Prometheus registry the process's metrics backend (once per process).
  public init(bootstrap: Bool) {
    if bootstrap { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
    depth = Metrics.Gauge(label: "rulec_queue_depth")
    paused = Metrics.Gauge(label: "rulec_paused_collectors")
    requests = Metrics.Counter(label: "rulec_forward_requests_total")
    retries = Metrics.Counter(label: "rulec_forward_retries_total")
    deadLetters = Metrics.Counter(label: "rulec_dead_letters_total")
    delivered = Metrics.Counter(label: "rulec_delivered_total")
    annotationsDelivered = Metrics.Counter(label: "rulec_annotations_delivered_total")
    droppedAtDequeue = Metrics.Counter(label: "rulec_post_queue_dropped_total")
    forwardLatency = Metrics.Timer(label: "rulec_forward_request_seconds")
    unroutedEvents = Metrics.Counter(label: "rulec_unrouted_events_total")
  }

  private func counter(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Counter {
    let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
    return lock.withLock {
      if let c = counters[key] { return c }
      let c = Metrics.Counter(label: label, dimensions: dimensions)
      counters[key] = c
      return c
    }
  }

  // MARK: rulec proxy

  func proxyRequest(predict: Bool) { counter("rulec_proxy_requests_total", [("call", predict ? "post_model_outputs" : "other")]).increment() }
  func proxyUpstreamFailure() { counter("rulec_proxy_upstream_failures_total", []).increment() }
  func proxyCollectionFailure(_ stage: String) { counter("rulec_proxy_collection_failures_total", [("stage", stage)]).increment() }
  func proxyOutputs(_ count: Int) { counter("rulec_proxy_outputs_total", []).increment(by: Int64(count)) }
  /// Time the proxy added to a call: its whole handling less the upstream's answer.
  func proxyAdded(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    proxyAddedTimer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }

  func unrouted(_ count: Int) { unroutedEvents.increment(by: Int64(count)) }
  func event(collector: String) { counter("rulec_events_total", [("collector", collector)]).increment() }
  /// A forwarding request that failed as a whole: `unreachable`, `retried` or `paused`.
  func forwardProblem(_ kind: String) { counter("rulec_forward_failures_total", [("kind", kind)]).increment() }

  /// What `collect_outputs` copied onto accepted inputs: items with concepts, and regions.
  func collected(collector: String, itemsWithConcepts: Int, regions: Int) {
    if itemsWithConcepts > 0 {
      counter("rulec_collected_outputs_total", [("collector", collector), ("kind", "concepts")]).increment(by: Int64(itemsWithConcepts))
    }
    if regions > 0 { counter("rulec_collected_outputs_total", [("collector", collector), ("kind", "regions")]).increment(by: Int64(regions)) }
  }
  func accepted(collector: String) { counter("rulec_accepted_total", [("collector", collector)]).increment() }
  func statement(collector: String, index: Int, passed: Bool) {
    counter("rulec_statement_total", [("collector", collector), ("statement", String(index + 1)), ("outcome", passed ? "passed" : "dropped")])
      .increment()
  }

  /// Brings the forwarding counters up to date with the forwarder's running totals.
  func forwarded(_ stats: ForwardStats, droppedAtDequeue dropped: Int, queueDepth: Int) {
    lock.withLock {
      requests.increment(by: Int64(stats.requests - last.requests))
      retries.increment(by: Int64(stats.retried - last.retried))
      deadLetters.increment(by: Int64(stats.deadLettered - last.deadLettered))
      delivered.increment(by: Int64(stats.delivered - last.delivered))
      annotationsDelivered.increment(by: Int64(stats.annotationsDelivered - last.annotationsDelivered))
      droppedAtDequeue.increment(by: Int64(dropped - lastDropped))
      last = stats
      lastDropped = dropped
    }
    depth.record(queueDepth)
    paused.record(stats.paused.count)
  }
}
