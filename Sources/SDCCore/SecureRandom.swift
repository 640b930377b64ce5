/// The one source of secrets in sdc (API keys, job credentials, session tokens, signing secrets): the system's
/// cryptographically secure generator (`getrandom` on Linux).
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(0, count)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
