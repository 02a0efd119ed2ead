using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary>
/// Base of sbk's commands: loads the configuration and runs the command's work. Errors are handled
/// once, in Program. Commands that restore, decrypt, hold, release, delete or change keys and
/// secrets name themselves in <see cref="Audited"/>, and are written to the audit log whatever
/// their outcome.
/// </summary>
internal abstract class SbkCommand : Command
{
    protected SbkCommand(string name, string description, Interaction interaction)
        : base(name, description)
    {
        Interaction = interaction;
        SetAction(async (parseResult, cancellationToken) =>
        {
            await using var context = CliContext.Load(parseResult.GetValue(GlobalOptions.Config), interaction, parseResult.GetValue(GlobalOptions.Verbose));
            if (Audited(parseResult) is not { } audited)
            {
                return await ExecuteAsync(parseResult, context, cancellationToken).ConfigureAwait(false);
            }

            var outcome = "failed";
            try
            {
                var exit = await ExecuteAsync(parseResult, context, cancellationToken).ConfigureAwait(false);
                outcome = exit == ExitCodes.Ok ? "ok" : $"failed (exit {exit.ToString(System.Globalization.CultureInfo.InvariantCulture)})";
                return exit;
            }
            catch (OperationCanceledException)
            {
                outcome = "cancelled";
                throw;
            }
            catch (Errors.SbkException ex)
            {
                outcome = $"failed ({ex.Kind.ToString().ToLowerInvariant()})";
                throw;
            }
            finally
            {
                await RecordAsync(context, audited.Action, audited.Target, outcome).ConfigureAwait(false);
            }
        });
    }

    protected Interaction Interaction { get; }

    protected abstract Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken);

    /// <summary>What to write to the audit log for this invocation (action, target), or null when it changes nothing worth auditing.</summary>
    protected virtual (string Action, string? Target)? Audited(ParseResult parseResult) => null;

    private static async Task RecordAsync(CliContext context, string action, string? target, string outcome)
    {
        Audit.AuditLog log;
        try
        {
            log = context.Get<Audit.AuditLog>();
        }
        catch (Errors.SbkException)
        {
            return; // No usable store (the configuration is what failed): nothing to write to.
        }

        await log.RecordAsync(new Audit.AuditEntry(DateTimeOffset.UtcNow, "cli", $"{Environment.UserName}@{Environment.MachineName}", action, target, outcome, null)).ConfigureAwait(false);
    }
}
