using System.Diagnostics;
using System.IO.Pipes;
using System.Text;
using ServerlessBackup.Dump;

namespace ServerlessBackup.Restore;

/// <summary>
/// A running pg_restore. The connection (password included) goes through libpq environment
/// variables, never the command line. Standard output and standard error are drained
/// concurrently (errors are counted and matched as they arrive); the input is either a file path in the
/// arguments or standard input, fed by <see cref="FeedAsync"/>.
/// </summary>
internal sealed class PgRestoreProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly Task pumps;

    private PgRestoreProcess(Process process, PgRestoreMessages messages, bool keepStdout)
    {
        this.process = process;
        Messages = messages;
        pumps = Task.WhenAll(PumpErrorsAsync(process.StandardError, messages), PumpOutputAsync(process.StandardOutput, keepStdout ? stdout : null));
    }

    /// <summary>pg_restore's messages, complete after <see cref="WaitAsync"/>.</summary>
    public PgRestoreMessages Messages { get; }

    /// <summary>Starts pg_restore with <paramref name="arguments"/>, connecting as <paramref name="connection"/> to <paramref name="database"/> (none for --list).</summary>
    public static PgRestoreProcess Start(PgToolVersion tool, IEnumerable<string> arguments, PgConnectionInfo? connection, string? database, IReadOnlyList<string> tolerated, bool keepStdout = false)
    {
        var process = PgProcess.Start(tool.Path, arguments, connection, database);
        return new PgRestoreProcess(process, new PgRestoreMessages(tolerated), keepStdout);
    }

    /// <summary>
    /// Copies <paramref name="source"/> into pg_restore's standard input, then closes it. Returns
    /// false when pg_restore stopped reading first (it exited: an error, or --list had all it needed).
    /// </summary>
    public async Task<bool> FeedAsync(Stream source, Action<long>? onWritten, CancellationToken cancellationToken)
    {
        var input = process.StandardInput.BaseStream;

        // pg_restore reads a large chunk in one read when the pipe holds it (ArchiveChunkJoiner).
        PipeReader.TryWiden(input);
        var buffer = new byte[1 << 20];
        long written = 0;
        try
        {
            // A landed part goes into the pipe without passing through sbk where the system allows it.
            if (source is LandedBlock landed && input is PipeStream pipe && await landed.SpliceIntoAsync(pipe, cancellationToken).ConfigureAwait(false))
            {
                onWritten?.Invoke(landed.Spliced);
                input.Close();
                return true;
            }

            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await input.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                written += n;
                onWritten?.Invoke(written);
            }

            await input.FlushAsync(cancellationToken).ConfigureAwait(false);
            input.Close();
            return true;
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            // Broken pipe: pg_restore exited. Its exit code and messages say why.
            CloseInput();
            return false;
        }
    }

    /// <summary>Closes standard input (pg_restore reads a file, or has been fed).</summary>
    public void CloseInput()
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already broken.
        }
    }

    /// <summary>Waits for exit; returns the exit code and, if kept, standard output. <see cref="Messages"/> is then complete.</summary>
    public async Task<(int ExitCode, string Output)> WaitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await pumps.ConfigureAwait(false);
        return (process.ExitCode, stdout.ToString());
    }

    private static async Task PumpOutputAsync(StreamReader reader, StringBuilder? sink)
    {
        var buffer = new char[8192];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            sink?.Append(buffer, 0, n);
        }
    }

    private static async Task PumpErrorsAsync(StreamReader reader, PgRestoreMessages messages)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (messages)
            {
                messages.AddLine(line);
            }
        }

        lock (messages)
        {
            messages.Flush();
        }
    }

    /// <summary>Kills pg_restore if it is still running.</summary>
    public void Kill() => PgProcess.Kill(process);

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }
}
