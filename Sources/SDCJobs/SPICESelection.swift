import SDCCore

/// How a SPICE edge's descriptor chooses kernels (pipeline.md §2): `historical` takes only kernels of the edge's own
/// type; `best` also takes predicted kernels where no kernel of that type covers the day.
public enum SPICEDescriptor: String, Sendable, CaseIterable {
    case historical
    case best
}

extension SPICEKernelType {
    /// The types that stand in for this one under `best` when none of this type covers a day, most accurate first:
    /// the attitude prediction for the attitude history; the predicted, 90-day, long-term and nominal trajectories
    /// for the reconstructed ephemeris (imap-data-access calls a group holding any of these `best`). Other types
    /// have no stand-in.
    public var bestSubstitutes: [SPICEKernelType] {
        switch self {
        case .attitudeHistory: [.attitudePredict]
        case .ephemerisReconstructed: [.ephemerisPredicted, .ephemeris90Days, .ephemerisLong, .ephemerisNominal]
        default: []
        }
    }

    /// A spacecraft ephemeris type (`ephemeris_*`). Production (sds-data-manager `spice.check_for_missing_kernels`)
    /// requires one kernel of any requested ephemeris type when a job requests more than one.
    public var isEphemeris: Bool { rawValue.hasPrefix("ephemeris_") }
}

extension ProductNode {
    /// The kernel type of a SPICE node; nil for science and ancillary nodes.
    public var kernelType: SPICEKernelType? {
        ["spice", "spin", "repoint"].contains(dataType) ? SPICEKernelType(rawValue: source) : nil
    }

    /// The kernel types this SPICE node takes, in order of preference: its own, then under `best` its stand-ins.
    public var acceptedKernelTypes: [SPICEKernelType] {
        guard let kernelType else { return [] }
        return descriptor == SPICEDescriptor.best.rawValue ? [kernelType] + kernelType.bestSubstitutes : [kernelType]
    }

    /// Whether `file` can serve as an input of this node: an instance of it (``matches(_:)``), or under `best` a
    /// kernel of a stand-in type. A stand-in never triggers a job (production never triggers on predictions), but
    /// its arrival plans the days waiting for it.
    public func accepts(_ file: IMAPFileName) -> Bool {
        if matches(file) { return true }
        guard let type = file.spice?.kernelType else { return false }
        return acceptedKernelTypes.contains(type)
    }
}
