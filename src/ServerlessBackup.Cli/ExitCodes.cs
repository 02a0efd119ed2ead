using ServerlessBackup.Errors;

namespace ServerlessBackup.Cli;

/// <summary>sbk's exit codes; stable, documented in README.md.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Integrity = 3;
    public const int NotFound = 4;
    public const int AlreadyRunning = 5;
    public const int Configuration = 6;
    public const int Cancelled = 130;

    public static int For(SbkErrorKind kind) => kind switch
    {
        SbkErrorKind.Integrity => Integrity,
        SbkErrorKind.NotFound => NotFound,
        SbkErrorKind.AlreadyRunning => AlreadyRunning,
        SbkErrorKind.Configuration => Configuration,
        _ => Failed,
    };
}
