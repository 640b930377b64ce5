import Testing
@testable import SDCCDF

/// Damaged input must produce a `CDFError`, never a crash, a hang or an allocation beyond what the file justifies.
@Suite struct FuzzTests {
    /// A small deterministic generator so that failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ original: [UInt8], using random: inout SplitMix) -> [UInt8] {
        var bytes = original
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random))
        case 1:
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 2:
            // Overwrite an aligned 4- or 8-byte field with an extreme value (counts, sizes, offsets).
            let width = Bool.random(using: &random) ? 4 : 8
            let at = Int.random(in: 0..<(bytes.count - width), using: &random) & ~3
            let extremes: [UInt64] = [0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 0x7FFF_FFFF_FFFF_FFFF, UInt64(bytes.count), 8]
            let value = extremes[Int.random(in: 0..<extremes.count, using: &random)]
            overwrite(&bytes, at: at, width: width, with: value)
        case 3:
            let at = Int.random(in: 0..<bytes.count, using: &random)
            bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
        default:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let length = Int.random(in: 1...min(64, bytes.count - start), using: &random)
            bytes.replaceSubrange(start..<(start + length), with: repeatElement(0xFF, count: length))
        }
        return bytes
    }

    @Test func tenThousandDamagedFiles() throws {
        let sources = try ["small.cdf", "small_gzipvar.cdf", "small_md5.cdf", "small_filegz.cdf", "minimal.cdf", "cvvr_demo.cdf"]
            .map { ($0, try TestData.bytes($0)) }
        var random = SplitMix(state: 4)
        var failures = 0
        var successes = 0
        var refusedAllocations = 0
        for iteration in 0..<10_000 {
            let (name, original) = sources[iteration % sources.count]
            let bytes = Self.mutate(original, using: &random)
            do {
                let reader = try CDFReader(bytes: bytes, options: CDFReadOptions(verifyChecksum: iteration % 2 == 0))
                for variable in reader.variables {
                    let values = try reader.values(of: variable)
                    let decoded = values.count * variable.dataType.elementSize * (variable.dataType.isString ? variable.numElems : 1)
                    // cvvr_demo.cdf legitimately inflates 2.5 KB into 800 KB; every other file must stay within 2x.
                    let budget = name == "cvvr_demo.cdf" ? 800_000 : 2 * bytes.count
                    #expect(decoded <= budget, "iteration \(iteration): \(decoded) bytes from a \(bytes.count)-byte file")
                }
                _ = try CDFDump(reader: reader, recordLimit: 2).json()
                successes += 1
            } catch let error as CDFError {
                Self.expectDiagnosable(error, iteration: iteration)
                if case .allocationTooLarge = error { refusedAllocations += 1 }
                failures += 1
            } catch {
                Issue.record("iteration \(iteration) (\(name)): \(type(of: error)) is not a CDFError: \(error)")
            }
        }
        #expect(failures > 1000, "most damaged files must be rejected")
        #expect(successes > 100, "damage to data bytes leaves a readable file")
        #expect(refusedAllocations > 0, "files claiming sizes they cannot hold are refused before allocating")
    }

    /// A failure has a message, and errors about the file's structure say where in the file the damage is.
    static func expectDiagnosable(_ error: CDFError, iteration: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let located: Bool = switch error {
        case .truncated, .malformed, .unexpectedRecordType, .cycle, .unsupportedDataType, .unsupportedCompression,
             .decompressionFailed, .allocationTooLarge:
            true
        default:
            false
        }
        #expect(!error.description.isEmpty, "iteration \(iteration)", sourceLocation: sourceLocation)
        if located {
            #expect(error.description.contains("offset "), "iteration \(iteration): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Size fields set to the largest values their width allows are refused with `allocationTooLarge`, without
    /// allocating what they claim.
    @Test func hugeClaimedSizesAreRefusedBeforeAllocating() throws {
        // The CCR of a whole-file-compressed CDF: uncompressed size (8 bytes at offset 28).
        var fileGz = try TestData.bytes("small_filegz.cdf")
        Self.overwrite(&fileGz, at: 28, width: 8, with: 0x7FFF_FFFF_FFFF_FFFF)
        #expect {
            _ = try CDFReader(bytes: fileGz, options: CDFReadOptions(verifyChecksum: false))
        } throws: { error in
            guard case let .allocationTooLarge(record, offset, bytes, limit)? = error as? CDFError else { return false }
            return record == "CCR" && offset == 8 && bytes == Int.max && limit < fileGz.count * 2000
        }
        // A zVDR's MaxRec (4 bytes at offset 24 of the record): 2^31 records of a variable stored in a few kilobytes.
        for name in ["small.cdf", "small_gzipvar.cdf", "cvvr_demo.cdf"] {
            let original = try TestData.bytes(name)
            let variable = try #require(try CDFReader(bytes: original).variables.first { $0.recordVarying })
            var damaged = original
            Self.overwrite(&damaged, at: variable.descriptorOffset + 24, width: 4, with: 0x7FFF_FFFF)
            let reader = try CDFReader(bytes: damaged)
            #expect {
                _ = try reader.values(of: variable.name)
            } throws: { error in
                guard case let .allocationTooLarge(_, _, bytes, limit)? = error as? CDFError else { return false }
                return bytes > limit && limit <= damaged.count * 1032 + 1024
            }
        }
    }

    /// Writes `value` big-endian into `width` bytes at `offset`.
    static func overwrite(_ bytes: inout [UInt8], at offset: Int, width: Int, with value: UInt64) {
        for k in 0..<width { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - k))) }
    }
}
