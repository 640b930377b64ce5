import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of a parsed XML document: namespace prefix stripped, attributes, children, text and source line.
struct XMLNode: Sendable {
    /// The local name (`SequenceContainer` for `xtce:SequenceContainer`).
    let name: String
    let attributes: [String: String]
    var children: [XMLNode]
    var text: String
    /// The line of the document on which the element's start tag ends (as reported by `XMLParser`).
    let line: Int

    /// The children with the given local name, in document order.
    func children(named childName: String) -> [XMLNode] {
        children.filter { $0.name == childName }
    }

    /// The first child with the given local name.
    func child(named childName: String) -> XMLNode? {
        children.first { $0.name == childName }
    }

    /// The first descendant reached by following the given local names.
    func descendant(_ path: String...) -> XMLNode? {
        var node = self
        for component in path {
            guard let next = node.child(named: component) else { return nil }
            node = next
        }
        return node
    }

    func requiredAttribute(_ attribute: String) throws(XTCEError) -> String {
        guard let value = attributes[attribute] else {
            throw .missingAttribute(element: name, attribute: attribute, line: line)
        }
        return value
    }

    func requiredChild(_ childName: String) throws(XTCEError) -> XMLNode {
        guard let node = child(named: childName) else {
            throw .missingElement(parent: name, child: childName, line: line)
        }
        return node
    }

    /// Parses a whole XML document into a tree.
    static func parse(_ data: Data) throws(XTCEError) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.delegate = builder
        let succeeded = parser.parse()
        if let failure = builder.failure {
            throw failure
        }
        guard succeeded, let root = builder.root else {
            let message = parser.parserError.map { String(describing: $0) } ?? "no root element"
            throw .malformedXML(message: message, line: parser.lineNumber)
        }
        return root
    }
}

/// Collects `XMLParser` callbacks into `XMLNode`s.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?
    var failure: XTCEError?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        let localName = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLNode(name: localName, attributes: attributeDict, children: [], text: "", line: parser.lineNumber))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard var node = stack.popLast() else { return }
        node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if failure == nil {
            failure = .malformedXML(message: String(describing: parseError), line: parser.lineNumber)
        }
    }
}
