/// Decodes one line of a recording: a Clarifai output object, or a whole PostModelOutputs response
/// with an `outputs` array. It reads only what rules can use and validates the rest as JSON.
public struct OutputDecoder: Sendable {
  public let projection: MetadataProjection
  /// What the rules read; regions and frames are only checked as JSON when no rule reads them.
  public let needs: DecodeNeeds
  /// Whether usual concept objects take the straight-line path (tests turn it off to compare).
  var plainConcepts = true

  /// A line may hold at most this many outputs (a PostModelOutputs call takes at most 128 inputs).
  /// Without a limit, one 16 MiB line of `{}`s held five million events: 2.6 GB.
  public static let maxOutputsPerLine = 10_000

  /// A line may make at most this many list elements in memory, all lists together (outputs,
  /// concepts, regions, frames, metadata list items; lists no rule reads are only checked). Without
  /// a limit, one 15 MB line of five million empty concepts held 553 MB, of four million empty
  /// regions 383 MB, of a metadata list of seven million numbers 249 MB.
  public static let maxListElementsPerLine = 200_000

  /// Every output must name its model (`model.id`): one that does not cannot be routed, and its line
  /// is bad. False where no model is expected (an input read back from the queue, a test of values).
  public var requiresModel = true

  public init(projection: MetadataProjection, needs: DecodeNeeds = .everything, requiresModel: Bool = true) {
    self.projection = projection
    self.needs = needs
    self.requiresModel = requiresModel
  }

  /// The outputs of one line, in order.
  public func decode(line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(DecodeError) -> [Event] {
    var c = JSONCursor(line)
    guard c.peek() == UInt8(ascii: "{") else {
      throw c.atEnd ? c.fail("empty line") : c.fail("a line must be a JSON object")
    }
    var single = Event()
    single.line = lineNumber
    single.metadata = Array(repeating: nil, count: projection.slotCount)
    var outputs: [Event]?
    var sawOutputField = false
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "outputs") {
        try Self.once(&seen, 1 << 0, c, key)
        var list: [Event] = []
        defer { outputs = list }
        // proto3 JSON reads `null` as the field's default: no outputs.
        if c.nextIsNull() {
          _ = try c.literal()
          return
        }
        try c.array { (c) throws(DecodeError) in
          guard list.count < Self.maxOutputsPerLine else {
            throw c.fail("more than \(Self.maxOutputsPerLine) outputs in one line")
          }
          try c.countListElement()
          var e = Event()
          e.line = lineNumber
          e.indexInLine = list.count
          e.metadata = Array(repeating: nil, count: projection.slotCount)
          let start = c.i
          try decodeOutput(&c, into: &e)
          if requiresModel && e.lacksModel { throw Self.noModel(list.count, at: start) }
          list.append(e)
        }
      } else if try decodeOutputField(&c, key, into: &single, seen: &seen) {
        sawOutputField = true
      } else {
        try c.skipValue()
      }
    }
    guard c.peek() == nil else { throw c.fail("unexpected text after the JSON object") }
    if let outputs { return outputs }
    guard sawOutputField else { throw DecodeError("not a Clarifai output or PostModelOutputs response", at: 0) }
    if requiresModel && single.lacksModel { throw Self.noModel(nil, at: 0) }
    return [single]
  }

  /// An output that does not say which model made it cannot be routed: the line is bad, not skipped.
  static func noModel(_ index: Int?, at offset: Int) -> DecodeError {
    DecodeError("\(index.map { "output \($0 + 1)" } ?? "the output") names no model (model.id is missing or empty)", at: offset)
  }

  /// Rejects a key seen twice in one object (its bit is already set).
  static func once(_ seen: inout UInt32, _ bit: UInt32, _ c: JSONCursor, _ key: Range<Int>) throws(DecodeError) {
    if seen & bit != 0 { throw DecodeError("duplicate key '\(c.text(key))'", at: key.lowerBound) }
    seen |= bit
  }

  func decodeOutput(_ c: inout JSONCursor, into e: inout Event) throws(DecodeError) {
    guard c.peek() == UInt8(ascii: "{") else { throw c.fail("an output must be an object") }
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      if try !decodeOutputField(&c, key, into: &e, seen: &seen) { try c.skipValue() }
    }
  }

  /// Reads one field of an output object; false if the key is not one the decoder reads.
  func decodeOutputField(_ c: inout JSONCursor, _ key: Range<Int>, into e: inout Event, seen: inout UInt32) throws(DecodeError) -> Bool {
    if c.key(key, is: "id") {
      try Self.once(&seen, 1 << 1, c, key)
      e.outputID = try optionalString(&c, "output id")
    } else if c.key(key, is: "status") {
      try Self.once(&seen, 1 << 2, c, key)
      try decodeStatus(&c, into: &e)
    } else if c.key(key, is: "created_at") {
      try Self.once(&seen, 1 << 3, c, key)
      if let text = try optionalString(&c, "created_at") {
        guard let t = Timestamp.parse(text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)) else {
          throw c.fail("created_at is not an RFC 3339 timestamp")
        }
        e.createdAt = t
      }
    } else if c.key(key, is: "model") {
      try Self.once(&seen, 1 << 4, c, key)
      try decodeModel(&c, into: &e)
    } else if c.key(key, is: "input") {
      try Self.once(&seen, 1 << 5, c, key)
      try decodeInput(&c, into: &e)
    } else if c.key(key, is: "caller_user_id") {
      try Self.once(&seen, 1 << 7, c, key)
      e.caller = try optionalString(&c, "caller_user_id")
    } else if c.key(key, is: "data") {
      try Self.once(&seen, 1 << 6, c, key)
      try decodeData(&c, concepts: &e.concepts, regions: &e.regions, frames: &e.frames, depth: 0)
    } else {
      return false
    }
    return true
  }

  func optionalString(_ c: inout JSONCursor, _ what: String) throws(DecodeError) -> String? {
    if c.nextIsNull() {
      _ = try c.literal()
      return nil
    }
    guard c.peek() == UInt8(ascii: "\"") else { throw c.fail("\(what) must be a string") }
    return try c.string()
  }

  /// A float or double field: a number, `null` (nil: the field left out), or a string holding a
  /// number as the proto3 JSON mapping allows (`ProtoJSON.number(quoted:)`), read to the same value.
  func optionalNumber(_ c: inout JSONCursor, _ what: String) throws(DecodeError) -> Double? {
    switch c.peek() ?? 0 {
    case UInt8(ascii: "n"):
      _ = try c.literal()
      return nil
    case UInt8(ascii: "\""):
      let start = c.i
      let text = try c.string()
      switch Array(text.utf8).withUnsafeBufferPointer(ProtoJSON.number(quoted:)) {
      case .value(let v): return v
      case .outOfRange:
        c.i = start  // the error points at the value
        throw c.fail("\(what) is a number out of range")
      case .notANumber:
        c.i = start
        throw c.fail("\(what) must be a number, or a string holding exactly one (proto3 JSON: \"0.9\", \"1e-3\", \"NaN\", \"Infinity\", \"-Infinity\")")
      }
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try c.number()
    default:
      throw c.fail("\(what) must be a number")
    }
  }

  func requireObject(_ c: inout JSONCursor, _ what: String) throws(DecodeError) -> Bool {
    if c.nextIsNull() {
      _ = try c.literal()
      return false
    }
    guard c.peek() == UInt8(ascii: "{") else { throw c.fail("\(what) must be an object") }
    return true
  }

  /// `status.code`, an enum: a number, a string holding an integer or a name (`ProtoJSON.enumValue`),
  /// or `null`. `null` and a status without `code` are the enum's default, 0, which is not success:
  /// the output is skipped by its status, as `json_format` would read it (code 0, `ZERO`).
  func decodeStatus(_ c: inout JSONCursor, into e: inout Event) throws(DecodeError) {
    guard try requireObject(&c, "status") else { return }
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      guard c.key(key, is: "code") else { return try c.skipValue() }
      try Self.once(&seen, 1, c, key)
      switch c.peek() ?? 0 {
      case UInt8(ascii: "\""):
        let start = c.i
        let text = try c.string()
        switch Array(text.utf8).withUnsafeBufferPointer(ProtoJSON.enumValue(quoted:)) {
        case .number(let code): e.statusCode = code
        case .name: e.statusName = text
        case .invalid:
          c.i = start
          throw c.fail("status code is a string that is neither an integer (\"10000\") nor an enum name (\"SUCCESS\")")
        }
      case UInt8(ascii: "n"):
        _ = try c.literal()
        e.statusCode = 0
      default:
        guard let v = try optionalNumber(&c, "status code"), v == v.rounded(), abs(v) < 1e9 else {
          throw c.fail("status code must be an integer or a name")
        }
        e.statusCode = Int(v)
      }
    }
    if seen == 0 { e.statusCode = 0 }
  }

  func decodeModel(_ c: inout JSONCursor, into e: inout Event) throws(DecodeError) {
    guard try requireObject(&c, "model") else { return }
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "id") {
        try Self.once(&seen, 1, c, key)
        e.modelID = try optionalString(&c, "model id")
      } else if c.key(key, is: "user_id") {
        try Self.once(&seen, 2, c, key)
        e.modelUser = try optionalString(&c, "model user_id")
      } else if c.key(key, is: "app_id") {
        try Self.once(&seen, 4, c, key)
        e.modelApp = try optionalString(&c, "model app_id")
      } else if c.key(key, is: "model_version") {
        try Self.once(&seen, 8, c, key)
        guard try requireObject(&c, "model_version") else { return }
        var versionSeen: UInt32 = 0
        try c.object { (c, key) throws(DecodeError) in
          guard c.key(key, is: "id") else { return try c.skipValue() }
          try Self.once(&versionSeen, 1, c, key)
          e.modelVersion = try optionalString(&c, "model version id")
        }
      } else {
        try c.skipValue()
      }
    }
  }

  func decodeInput(_ c: inout JSONCursor, into e: inout Event) throws(DecodeError) {
    guard try requireObject(&c, "input") else { return }
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "id") {
        try Self.once(&seen, 1, c, key)
        e.inputID = try optionalString(&c, "input id")
      } else if c.key(key, is: "data") {
        try Self.once(&seen, 2, c, key)
        guard try requireObject(&c, "input data") else { return }
        var dataSeen: UInt32 = 0
        try c.object { (c, key) throws(DecodeError) in
          if c.key(key, is: "metadata") {
            try Self.once(&dataSeen, 1, c, key)
            c.skipWhitespace()
            let start = c.i
            guard try requireObject(&c, "metadata") else { return }
            try decodeMetadata(&c, node: projection.root, into: &e, depth: 0, top: true)
            if let root = projection.root.slot { e.metadata[root] = .object }
            e.metadataRange = start..<c.i
            return
          }
          for (bit, kind) in InputKind.allCases.enumerated() where c.key(key, is: kind.staticName) {
            try Self.once(&dataSeen, 2 << UInt32(bit), c, key)
            c.skipWhitespace()
            let start = c.i
            guard try requireObject(&c, kind.rawValue) else { return }
            try c.object { (c, key) throws(DecodeError) in
              if c.key(key, is: "url") {
                e.inputURL = try optionalString(&c, "url")
              } else if kind == .text && c.key(key, is: "raw") {
                e.inputText = try optionalString(&c, "text raw")
              } else {
                try c.skipValue()
              }
            }
            if e.inputKind == nil { e.inputKind = kind }
            e.mediaRange = start..<c.i
            return
          }
          try c.skipValue()
        }
      } else {
        try c.skipValue()
      }
    }
  }

  /// Walks a metadata object along the projection trie, capturing values at projected paths.
  func decodeMetadata(
    _ c: inout JSONCursor, node: MetadataProjection.Node, into e: inout Event, depth: Int, top: Bool = false
  ) throws(DecodeError) {
    guard depth < JSONCursor.depthLimit else { throw c.fail("JSON nests too deep") }
    var seenKeys: [Range<Int>] = []
    try c.object { (c, key) throws(DecodeError) in
      if top && c.key(key, is: "rulec") { e.metadataHasRulecKey = true }
      // Duplicate keys are rejected only where a rule reads them; a linear scan is fine for the few keys of a level.
      let name = c.text(key)
      guard let child = node.children[name] else { return try c.skipValue(depth: depth + 1) }
      for k in seenKeys where c.bytes[k].elementsEqual(c.bytes[key]) {
        throw DecodeError("duplicate key '\(name)'", at: key.lowerBound)
      }
      seenKeys.append(key)
      if child.children.isEmpty {
        e.metadata[child.slot!] = try metadataValue(&c, depth: depth + 1)
      } else if c.peek() == UInt8(ascii: "{") {
        try decodeMetadata(&c, node: child, into: &e, depth: depth + 1)
        if let slot = child.slot { e.metadata[slot] = .object }
      } else {
        let value = try metadataValue(&c, depth: depth + 1)
        if let slot = child.slot { e.metadata[slot] = value }
      }
    }
  }

  func metadataValue(_ c: inout JSONCursor, depth: Int) throws(DecodeError) -> MetadataValue {
    guard depth < JSONCursor.depthLimit else { throw c.fail("JSON nests too deep") }
    switch c.peek() ?? 0 {
    case UInt8(ascii: "\""): return .string(try c.string())
    case UInt8(ascii: "{"):
      try c.skipValue(depth: depth)
      return .object
    case UInt8(ascii: "["):
      var items: [MetadataValue] = []
      try c.array { (c) throws(DecodeError) in
        try c.countListElement()
        items.append(try metadataValue(&c, depth: depth + 1))
      }
      return .list(items)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try c.number())
    default:
      guard let b = try c.literal() else { return .null }
      return .bool(b)
    }
  }

  func decodeData(
    _ c: inout JSONCursor, concepts: inout [ConceptValue], regions: inout [RegionValue], frames: inout [FrameValue], depth: Int
  ) throws(DecodeError) {
    guard try requireObject(&c, "data") else { return }
    guard depth < 4 else { return try c.skipValue() }
    var seen: UInt32 = 0
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "concepts") {
        try Self.once(&seen, 1, c, key)
        try decodeConcepts(&c, into: &concepts)
      } else if c.key(key, is: "regions") {
        try Self.once(&seen, 2, c, key)
        guard needs.regionsAndFrames else { return try c.skipValue() }
        guard try requireList(&c, "regions") else { return }
        try c.array { (c) throws(DecodeError) in
          try c.countListElement()
          regions.append(try decodeRegion(&c, depth: depth))
        }
      } else if c.key(key, is: "frames") {
        try Self.once(&seen, 4, c, key)
        guard needs.regionsAndFrames else { return try c.skipValue() }
        guard try requireList(&c, "frames") else { return }
        try c.array { (c) throws(DecodeError) in
          try c.countListElement()
          frames.append(try decodeFrame(&c, depth: depth))
        }
      } else {
        try c.skipValue()
      }
    }
  }

  /// Whether a list follows (false, having read it, for `null`: proto3 JSON's empty list).
  func requireList(_ c: inout JSONCursor, _ what: String) throws(DecodeError) -> Bool {
    if c.nextIsNull() {
      _ = try c.literal()
      return false
    }
    guard c.peek() == UInt8(ascii: "[") else { throw c.fail("\(what) must be an array") }
    return true
  }

  func decodeConcepts(_ c: inout JSONCursor, into concepts: inout [ConceptValue]) throws(DecodeError) {
    guard try requireList(&c, "concepts") else { return }
    try c.array { (c) throws(DecodeError) in
      try c.countListElement()
      if plainConcepts, let concept = c.plainConcept() {
        concepts.append(concept)
        return
      }
      guard c.peek() == UInt8(ascii: "{") else { throw c.fail("a concept must be an object") }
      var concept = ConceptValue(id: "", name: "", value: 0)
      var seen: UInt32 = 0
      try c.object { (c, key) throws(DecodeError) in
        if c.key(key, is: "id") {
          try Self.once(&seen, 1, c, key)
          concept.id = try optionalString(&c, "concept id") ?? ""
        } else if c.key(key, is: "name") {
          try Self.once(&seen, 2, c, key)
          concept.name = try optionalString(&c, "concept name") ?? ""
        } else if c.key(key, is: "value") {
          try Self.once(&seen, 4, c, key)
          concept.value = try optionalNumber(&c, "concept value") ?? 0
        } else {
          try c.skipValue()
        }
      }
      concepts.append(concept)
    }
  }

  func decodeRegion(_ c: inout JSONCursor, depth: Int) throws(DecodeError) -> RegionValue {
    guard c.peek() == UInt8(ascii: "{") else { throw c.fail("a region must be an object") }
    var region = RegionValue()
    var seen: UInt32 = 0
    var unusedRegions: [RegionValue] = []
    var unusedFrames: [FrameValue] = []
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "id") {
        try Self.once(&seen, 1, c, key)
        region.id = try optionalString(&c, "region id") ?? ""
      } else if c.key(key, is: "value") {
        try Self.once(&seen, 2, c, key)
        region.value = try optionalNumber(&c, "region value")
      } else if c.key(key, is: "data") {
        try Self.once(&seen, 4, c, key)
        try decodeData(&c, concepts: &region.concepts, regions: &unusedRegions, frames: &unusedFrames, depth: depth + 1)
      } else if c.key(key, is: "region_info") {
        try Self.once(&seen, 8, c, key)
        guard try requireObject(&c, "region_info") else { return }
        try c.object { (c, key) throws(DecodeError) in
          guard c.key(key, is: "bounding_box") else { return try c.skipValue() }
          guard try requireObject(&c, "bounding_box") else { return }
          var box = BoundingBox(top: 0, left: 0, bottom: 0, right: 0)
          try c.object { (c, key) throws(DecodeError) in
            if c.key(key, is: "top_row") {
              box.top = try optionalNumber(&c, "top_row") ?? 0
            } else if c.key(key, is: "left_col") {
              box.left = try optionalNumber(&c, "left_col") ?? 0
            } else if c.key(key, is: "bottom_row") {
              box.bottom = try optionalNumber(&c, "bottom_row") ?? 0
            } else if c.key(key, is: "right_col") {
              box.right = try optionalNumber(&c, "right_col") ?? 0
            } else {
              try c.skipValue()
            }
          }
          region.box = box
        }
      } else {
        try c.skipValue()
      }
    }
    return region
  }

  func decodeFrame(_ c: inout JSONCursor, depth: Int) throws(DecodeError) -> FrameValue {
    guard c.peek() == UInt8(ascii: "{") else { throw c.fail("a frame must be an object") }
    var frame = FrameValue()
    var seen: UInt32 = 0
    var unusedFrames: [FrameValue] = []
    try c.object { (c, key) throws(DecodeError) in
      if c.key(key, is: "id") {
        try Self.once(&seen, 1, c, key)
        frame.id = try optionalString(&c, "frame id") ?? ""
      } else if c.key(key, is: "frame_info") {
        try Self.once(&seen, 2, c, key)
        guard try requireObject(&c, "frame_info") else { return }
        try c.object { (c, key) throws(DecodeError) in
          if c.key(key, is: "index") {
            frame.index = try optionalNumber(&c, "frame index")
          } else if c.key(key, is: "time") {
            frame.time = try optionalNumber(&c, "frame time")
          } else {
            try c.skipValue()
          }
        }
      } else if c.key(key, is: "data") {
        try Self.once(&seen, 4, c, key)
        try decodeData(&c, concepts: &frame.concepts, regions: &frame.regions, frames: &unusedFrames, depth: depth + 1)
      } else {
        try c.skipValue()
      }
    }
    return frame
  }
}

extension InputKind {
  /// The JSON key of this kind in `input.data`.
  var staticName: StaticString {
    switch self {
    case .image: "image"
    case .video: "video"
    case .text: "text"
    case .audio: "audio"
    }
  }
}
