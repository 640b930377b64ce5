/// Why an XTCE definition could not be loaded.
///
/// Every case names the offending element (or reference) and the line of the XML document where it appears, so
/// that a construct outside the supported subset is reported instead of being decoded incorrectly.
public enum XTCEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The document is not well-formed XML.
    case malformedXML(message: String, line: Int)
    /// The root element is not an XTCE `SpaceSystem`.
    case notASpaceSystem(element: String, line: Int)
    /// An element that the decoder does not implement (arrays, aggregates, math calibrators, ...).
    case unsupportedElement(element: String, line: Int, reason: String)
    /// A required attribute is missing.
    case missingAttribute(element: String, attribute: String, line: Int)
    /// An attribute or text value cannot be interpreted.
    case invalidValue(element: String, attribute: String, value: String, line: Int)
    /// A required child element is missing.
    case missingElement(parent: String, child: String, line: Int)
    /// A reference to a parameter type, parameter or container that is not defined.
    case unknownReference(kind: String, name: String, element: String, line: Int)
    /// Two definitions share one name.
    case duplicateName(kind: String, name: String, line: Int)
    /// Container inheritance or nesting refers back to itself.
    case containerCycle(container: String, line: Int)
    /// A container whose layout cannot be compiled (e.g. two variable-size fields).
    case unsupportedLayout(container: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .malformedXML(message, line):
            "XTCE line \(line): malformed XML: \(message)"
        case let .notASpaceSystem(element, line):
            "XTCE line \(line): root element is <\(element)>, expected <SpaceSystem>"
        case let .unsupportedElement(element, line, reason):
            "XTCE line \(line): unsupported element <\(element)>: \(reason)"
        case let .missingAttribute(element, attribute, line):
            "XTCE line \(line): <\(element)> lacks the required attribute \"\(attribute)\""
        case let .invalidValue(element, attribute, value, line):
            "XTCE line \(line): <\(element)> has an invalid \(attribute) \"\(value)\""
        case let .missingElement(parent, child, line):
            "XTCE line \(line): <\(parent)> lacks the required element <\(child)>"
        case let .unknownReference(kind, name, element, line):
            "XTCE line \(line): <\(element)> refers to the undefined \(kind) \"\(name)\""
        case let .duplicateName(kind, name, line):
            "XTCE line \(line): \(kind) \"\(name)\" is defined twice"
        case let .containerCycle(container, line):
            "XTCE line \(line): container \"\(container)\" includes or inherits from itself"
        case let .unsupportedLayout(container, line, reason):
            "XTCE line \(line): container \"\(container)\" cannot be compiled: \(reason)"
        }
    }
}
