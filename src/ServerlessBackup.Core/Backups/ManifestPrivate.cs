using ServerlessBackup.Dump;

namespace ServerlessBackup.Backups;

/// <summary>What the manifest keeps encrypted: facts derived from the data.</summary>
/// <param name="Census">Row counts and sequence values in the dump's snapshot.</param>
/// <param name="HeaderSha256">SHA-256 of the archive's header (hex), binding manifest and archive.</param>
/// <param name="DumpMessages">pg_dump's standard error, if it wrote any (it may name tables).</param>
public sealed record ManifestPrivate(Census Census, string HeaderSha256, string? DumpMessages);
