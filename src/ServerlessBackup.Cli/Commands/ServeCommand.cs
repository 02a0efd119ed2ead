using System.CommandLine;
using ServerlessBackup.Cli.Serve;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk serve [--urls http://127.0.0.1:8080]</c>: the chat-ops HTTP API on this machine.</summary>
internal sealed class ServeCommand : SbkCommand
{
    private readonly Option<string> urls = new("--urls") { Description = "Where to listen (semicolon-separated).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };

    public ServeCommand(Interaction interaction)
        : base("serve", "Run the HTTP API (backups, restores, verifications, operations, health, Slack) until Ctrl+C.", interaction) => Options.Add(urls);

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        await using var host = await ServeHost.StartAsync(context.Services, parseResult.GetValue(urls)!, cancellationToken).ConfigureAwait(false);
        Interaction.WriteNote($"sbk serve: listening on {string.Join(", ", host.Addresses)} (Ctrl+C stops; running operations are cancelled and recorded as failed).");
        if (context.Options.Api.Keys.Count == 0)
        {
            Interaction.WriteNote("warning: no API keys are configured (Api:Keys); only /api/health and a signed Slack endpoint will answer.");
        }

        await host.WaitAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
