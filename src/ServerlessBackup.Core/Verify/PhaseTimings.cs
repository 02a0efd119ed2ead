namespace ServerlessBackup.Verify;

/// <summary>
/// Where the time of a restore or verification went, in seconds. In a streamed restore the
/// phases overlap: download and decrypt are the time the pipeline waited for the store and for
/// decryption, restore is pg_restore's whole run. With a local copy (parallel or non-scratch
/// restores) they are consecutive.
/// </summary>
/// <param name="Download">Waiting for the store.</param>
/// <param name="Decrypt">Authenticating, decrypting and decompressing.</param>
/// <param name="Restore">pg_restore.</param>
/// <param name="Checks">Census and assertions.</param>
/// <param name="Total">Wall time of the whole operation.</param>
public sealed record PhaseTimings(double Download, double Decrypt, double Restore, double Checks, double Total);
