/// Binary HTTP messages (RFC 9292), known-length form, as carried inside Oblivious HTTP.
///
/// A request is `framing (0) || method || scheme || authority || path || header section || content ||
/// trailer section`, a response `framing (1) || informational responses (status 100–199 + fields) ||
/// status || header section || content || trailer section`; strings and sections are prefixed with their
/// length as QUIC variable-length integers. A message may end early at a section boundary (the missing
/// sections are empty, §3.8) and may be followed by zero bytes of padding (§3.8), which is how Veil pads
/// messages to size buckets.
public struct HTTPField: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public struct BinaryHTTPRequest: Sendable, Equatable {
    public var method: String
    public var scheme: String
    public var authority: String
    public var path: String
    public var headers: [HTTPField]
    public var content: [UInt8]
    public var trailers: [HTTPField]

    public init(method: String, scheme: String = "https", authority: String = "", path: String,
                headers: [HTTPField] = [], content: [UInt8] = [], trailers: [HTTPField] = []) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.headers = headers
        self.content = content
        self.trailers = trailers
    }

    /// The known-length encoding. With `truncated`, trailing empty sections are left out (RFC 9292 §3.8),
    /// as in RFC 9458's example; with `paddedToBucket`, zero bytes follow up to the ``SizeBuckets`` class, written
    /// into the same buffer (no copy of the content beyond the one into the encoding).
    public func encoded(truncated: Bool = true, paddedToBucket: Bool = false) -> [UInt8] {
        let strings = [method, scheme, authority, path]
        var out: [UInt8] = []
        out.reserveCapacity(BinaryHTTPCoding.capacity(strings: strings, headers: headers, content: content, trailers: trailers, padded: paddedToBucket))
        out.append(0)
        for part in strings { BinaryHTTPCoding.appendString(part, to: &out) }
        BinaryHTTPCoding.appendTail(headers: headers, content: content, trailers: trailers, truncated: truncated, to: &out)
        if paddedToBucket { SizeBuckets.pad(&out) }
        return out
    }

    /// Decodes a known-length request (trailing zero padding allowed).
    /// - Throws: `invalidInput` for anything else.
    public init(decoding bytes: [UInt8]) throws {
        let (request, content) = try Self.decodingLeavingContent(bytes)
        self = request
        self.content = Array(bytes[content])
    }

    /// Decodes a known-length request as ``init(decoding:)`` does, with the same checks, but leaves the content
    /// where it is: the request with empty content, and the content's range in `bytes`. The gateway reads the
    /// content in place, so a decrypted request exists once in memory, not twice.
    static func decodingLeavingContent(_ bytes: [UInt8]) throws -> (request: BinaryHTTPRequest, content: Range<Int>) {
        var reader = BinaryReader(bytes)
        guard try reader.varint() == 0 else { throw ConfidentialInferenceError.invalid("binary HTTP: not a known-length request") }
        var request = BinaryHTTPRequest(method: try BinaryHTTPCoding.string(&reader), path: "")
        request.scheme = try BinaryHTTPCoding.string(&reader)
        request.authority = try BinaryHTTPCoding.string(&reader)
        request.path = try BinaryHTTPCoding.string(&reader)
        let (headers, content, trailers) = try BinaryHTTPCoding.readTailLeavingContent(&reader)
        request.headers = headers
        request.trailers = trailers
        return (request, content)
    }
}

public struct BinaryHTTPResponse: Sendable, Equatable {
    /// Informational (1xx) responses before the final one.
    public var informational: [(status: Int, fields: [HTTPField])]
    public var status: Int
    public var headers: [HTTPField]
    public var content: [UInt8]
    public var trailers: [HTTPField]

    public init(status: Int, headers: [HTTPField] = [], content: [UInt8] = [], trailers: [HTTPField] = [],
                informational: [(status: Int, fields: [HTTPField])] = []) {
        self.status = status
        self.headers = headers
        self.content = content
        self.trailers = trailers
        self.informational = informational
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.headers == b.headers && a.content == b.content && a.trailers == b.trailers
            && a.informational.map(\.status) == b.informational.map(\.status)
            && a.informational.map(\.fields) == b.informational.map(\.fields)
    }

    /// The known-length encoding (see ``BinaryHTTPRequest/encoded(truncated:paddedToBucket:)``).
    public func encoded(truncated: Bool = true, paddedToBucket: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(BinaryHTTPCoding.capacity(strings: [], headers: headers + informational.flatMap { $0.fields }, content: content,
                                                      trailers: trailers, padded: paddedToBucket) + 8 * (informational.count + 1))
        out.append(1)
        for info in informational {
            VariableLengthInteger.encode(UInt64(info.status), into: &out)
            BinaryHTTPCoding.appendSection(info.fields, to: &out)
        }
        VariableLengthInteger.encode(UInt64(status), into: &out)
        BinaryHTTPCoding.appendTail(headers: headers, content: content, trailers: trailers, truncated: truncated, to: &out)
        if paddedToBucket { SizeBuckets.pad(&out) }
        return out
    }

    public init(decoding bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes)
        guard try reader.varint() == 1 else { throw ConfidentialInferenceError.invalid("binary HTTP: not a known-length response") }
        informational = []
        while true {
            let code = try reader.varint()
            guard (100...599).contains(code) else { throw ConfidentialInferenceError.invalid("binary HTTP: status \(code) is not 100–599") }
            if code >= 200 { status = Int(code); break }
            informational.append((Int(code), try BinaryHTTPCoding.section(&reader)))
        }
        (headers, content, trailers) = try BinaryHTTPCoding.readTail(&reader)
    }
}

/// The pieces requests and responses share.
enum BinaryHTTPCoding {
    /// Fields and strings longer than this are refused when decoding (a bound on what a peer can make us hold).
    static let maximumSection = 1 << 20

    /// At least the encoded size of a message with these parts (each length prefix counted as 8 bytes), rounded
    /// up to its size bucket when it is to be padded: reserving it makes encoding and padding one allocation.
    static func capacity(strings: [String], headers: [HTTPField], content: [UInt8], trailers: [HTTPField], padded: Bool) -> Int {
        let fields = (headers + trailers).reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 16 }
        let size = 1 + strings.reduce(0) { $0 + $1.utf8.count + 8 } + fields + content.count + 3 * 8
        return padded ? SizeBuckets.capacity(forAtMost: size) : size
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        VariableLengthInteger.encode(UInt64(text.utf8.count), into: &out)
        out.append(contentsOf: text.utf8)
    }

    static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        VariableLengthInteger.encode(UInt64(bytes.count), into: &out)
        out += bytes
    }

    static func appendSection(_ fields: [HTTPField], to out: inout [UInt8]) {
        let length = fields.reduce(0) { total, field in
            total + VariableLengthInteger.size(of: UInt64(field.name.utf8.count)) + field.name.utf8.count
                + VariableLengthInteger.size(of: UInt64(field.value.utf8.count)) + field.value.utf8.count
        }
        VariableLengthInteger.encode(UInt64(length), into: &out)
        for field in fields {
            appendString(field.name, to: &out)
            appendString(field.value, to: &out)
        }
    }

    static func appendTail(headers: [HTTPField], content: [UInt8], trailers: [HTTPField], truncated: Bool, to out: inout [UInt8]) {
        let keepTrailers = !truncated || !trailers.isEmpty
        let keepContent = keepTrailers || !content.isEmpty
        let keepHeaders = keepContent || !headers.isEmpty
        if keepHeaders { appendSection(headers, to: &out) }
        if keepContent { appendBytes(content, to: &out) }
        if keepTrailers { appendSection(trailers, to: &out) }
    }

    static func string(_ reader: inout BinaryReader) throws -> String {
        let bytes = try reader.lengthPrefixed()
        guard bytes.count <= maximumSection, let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfidentialInferenceError.invalid("binary HTTP: a string is not UTF-8 or too long")
        }
        return text
    }

    static func section(_ reader: inout BinaryReader) throws -> [HTTPField] {
        let bytes = try reader.lengthPrefixed()
        guard bytes.count <= maximumSection else { throw ConfidentialInferenceError.invalid("binary HTTP: a field section is too large") }
        var inner = BinaryReader(bytes)
        var fields: [HTTPField] = []
        while !inner.isAtEnd {
            let name = try string(&inner)
            let value = try string(&inner)
            fields.append(HTTPField(name, value))
        }
        return fields
    }

    /// Header section, content and trailers, each possibly cut off (empty), then only zero padding (zero
    /// bytes read as empty sections, so padding needs no marker).
    static func readTail(_ reader: inout BinaryReader) throws -> ([HTTPField], [UInt8], [HTTPField]) {
        let (headers, content, trailers) = try readTailLeavingContent(&reader)
        return (headers, Array(reader.bytes[content]), trailers)
    }

    /// ``readTail(_:)`` with the content given as its range in the reader's bytes (empty at the end when cut off).
    static func readTailLeavingContent(_ reader: inout BinaryReader) throws -> ([HTTPField], Range<Int>, [HTTPField]) {
        var headers: [HTTPField] = [], trailers: [HTTPField] = []
        var content = reader.bytes.endIndex..<reader.bytes.endIndex
        if !reader.isAtEnd { headers = try section(&reader) }
        if !reader.isAtEnd { content = try reader.lengthPrefixedRange() }
        if !reader.isAtEnd { trailers = try section(&reader) }
        guard reader.remainingIsZero else {
            throw ConfidentialInferenceError.invalid("binary HTTP: bytes after the message that are not zero padding")
        }
        return (headers, content, trailers)
    }
}
