using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary>Base of sbk's commands: loads the configuration and runs the command's work. Errors are handled once, in Program.</summary>
internal abstract class SbkCommand : Command
{
    protected SbkCommand(string name, string description, Interaction interaction)
        : base(name, description)
    {
        Interaction = interaction;
        SetAction(async (parseResult, cancellationToken) =>
        {
            await using var context = CliContext.Load(parseResult.GetValue(GlobalOptions.Config), interaction, parseResult.GetValue(GlobalOptions.Verbose));
            return await ExecuteAsync(parseResult, context, cancellationToken).ConfigureAwait(false);
        });
    }

    protected Interaction Interaction { get; }

    protected abstract Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken);
}
