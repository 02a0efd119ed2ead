namespace ServerlessBackup.Errors;

/// <summary>Tells a full disk from other I/O failures, so that it can be reported as what it is, with where and what to do.</summary>
internal static class DiskFull
{
    /// <summary>Whether <paramref name="ex"/> says there was no room left (ENOSPC on Linux and macOS; ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL on Windows).</summary>
    public static bool Is(IOException ex) =>
        ex.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027) || ex.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase);
}
