using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk hold &lt;database&gt; &lt;backup-id|latest&gt;</c> and <c>sbk release &lt;database&gt; &lt;backup-id&gt;</c>.</summary>
internal sealed class HoldCommand : SbkCommand
{
    private readonly Argument<string> database = new("database") { Description = "The catalog name of the database." };
    private readonly Argument<string> backup = GlobalOptions.Backup();
    private readonly bool release;

    public HoldCommand(Interaction interaction, bool release)
        : base(release ? "release" : "hold", release
            ? "Lift a backup's hold, and release it from a keep-until-released label rule (e.g. emergency): retention decides its fate from now on."
            : "Put a hold on a backup: retention never deletes it until released.", interaction)
    {
        this.release = release;
        Arguments.Add(database);
        Arguments.Add(backup);
    }

    protected override (string Action, string? Target)? Audited(ParseResult parseResult) =>
        (release ? "release" : "hold", $"{parseResult.GetValue(database)} {parseResult.GetValue(backup)}");

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var name = parseResult.GetValue(database)!;
        var (id, storeHold) = release
            ? await context.Get<Retention.RetentionEngine>().ReleaseAsync(name, parseResult.GetValue(backup)!, cancellationToken).ConfigureAwait(false)
            : await context.Get<Retention.RetentionEngine>().HoldAsync(name, parseResult.GetValue(backup)!, cancellationToken).ConfigureAwait(false);
        Interaction.WriteLine(release
            ? $"Released backup {id} of '{name}': retention now decides whether it is kept (see: sbk prune {name} --dry-run).{(storeHold ? " The store's legal hold on it is lifted." : string.Empty)}"
            : $"Backup {id} of '{name}' is held: retention will not delete it until 'sbk release {name} {id}'. {(storeHold ? "The store holds it too (a legal hold): nobody can delete it until it is released." : "The store has no legal holds here (no version-level immutability on the container), so the hold is sbk's own record.")}");
        return ExitCodes.Ok;
    }
}
