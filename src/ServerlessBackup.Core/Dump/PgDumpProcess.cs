using System.Diagnostics;
using System.Globalization;
using System.Text;
using ServerlessBackup.Diagnostics;

namespace ServerlessBackup.Dump;

/// <summary>
/// A running pg_dump writing a custom-format archive to its standard output. The connection
/// (password included) goes through libpq environment variables, never the command line.
/// Standard error is kept (the last 64 KiB) to explain a failure; the exit code decides success.
/// </summary>
internal sealed class PgDumpProcess : IDisposable
{
    private const int StderrLimit = 64 * 1024;
    private readonly Process process;
    private readonly StringBuilder stderr = new();
    private readonly Task stderrPump;

    private PgDumpProcess(Process process)
    {
        this.process = process;
        Output = PipeReader.Over(process.StandardOutput.BaseStream);
        stderrPump = PumpStderrAsync();
    }

    /// <summary>The archive as pg_dump writes it, read in large pieces.</summary>
    public Stream Output { get; }

    /// <summary>Starts pg_dump.</summary>
    public static PgDumpProcess Start(PgToolVersion pgDump, PgConnectionInfo connection, string? snapshotId, int lockWaitTimeoutSeconds, bool compressInPgDump)
    {
        var arguments = new List<string>
        {
            "--format=custom",
            compressInPgDump ? "--compress=6" : "--compress=0",
            "--no-password",
            string.Create(CultureInfo.InvariantCulture, $"--lock-wait-timeout={lockWaitTimeoutSeconds * 1000}"),
        };
        if (snapshotId is not null)
        {
            arguments.Add("--snapshot=" + snapshotId);
        }

        var process = PgProcess.Start(pgDump.Path, arguments, connection);
        process.StandardInput.Close();
        return new PgDumpProcess(process);
    }

    /// <summary>Waits for exit; returns the exit code and pg_dump's messages (secrets redacted).</summary>
    public async Task<(int ExitCode, string Messages)> WaitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await stderrPump.ConfigureAwait(false);
        string text;
        lock (stderr)
        {
            text = stderr.ToString();
        }

        return (process.ExitCode, SecretRedactor.Redact(text.Trim()));
    }

    private async Task PumpStderrAsync()
    {
        var buffer = new char[4096];
        int n;
        while ((n = await process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            lock (stderr)
            {
                stderr.Append(buffer, 0, n);
                if (stderr.Length > StderrLimit)
                {
                    stderr.Remove(0, stderr.Length - StderrLimit);
                }
            }
        }
    }

    /// <summary>Kills pg_dump if it is still running.</summary>
    public void Kill() => PgProcess.Kill(process);

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }
}
