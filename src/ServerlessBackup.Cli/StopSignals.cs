using System.Runtime.InteropServices;

namespace ServerlessBackup.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM for the sbk process: the first one cancels the running command,
/// which stops pg_dump or pg_restore, undoes what it started (a half-made scratch database, a
/// restore beside a real database, temporary files) and exits 130 saying what it undid. A second
/// signal is left to the runtime, which ends sbk at once.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly Interaction interaction;
    private readonly PosixSignalRegistration[] registrations;
    private int received;

    public StopSignals(CancellationTokenSource stop, Interaction interaction)
    {
        this.stop = stop;
        this.interaction = interaction;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref received) > 1)
        {
            return;
        }

        context.Cancel = true;
        interaction.WriteNote($"{(context.Signal == PosixSignal.SIGINT ? "Ctrl+C" : "SIGTERM")}: stopping and undoing what was started (a second one ends sbk at once, leaving that undone).");
        stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
    }
}
