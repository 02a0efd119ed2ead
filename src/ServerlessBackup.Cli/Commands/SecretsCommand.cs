using System.CommandLine;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk secrets set &lt;name&gt;</c>: stores a secret read from standard input (never from the command line).</summary>
internal sealed class SecretsCommand : Command
{
    public SecretsCommand(Interaction interaction)
        : base("secrets", "Manage secrets in the local secret store (development; use Key Vault in production).")
    {
        Subcommands.Add(new SetCommand(interaction));
    }

    private sealed class SetCommand : SbkCommand
    {
        private readonly Argument<string> name = new("name") { Description = "The secret's name, e.g. app-db (what the catalog's ConnectionStringSecret names)." };

        public SetCommand(Interaction interaction)
            : base("set", "Store a secret read from standard input, e.g.: sbk secrets set app-db < conn.txt", interaction)
        {
            Arguments.Add(name);
        }

        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("secrets set", parseResult.GetValue(name));

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var secretName = parseResult.GetValue(name)!;
            if (!Console.IsInputRedirected)
            {
                Interaction.WriteNote($"Type or paste the value of '{secretName}', then press Enter:");
            }

            var value = (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                throw new SbkException(SbkErrorKind.Configuration, $"No value was given on standard input for the secret '{secretName}'; nothing was stored.");
            }

            var secrets = context.Get<Secrets.ISecretStore>();
            var stored = await secrets.SetSecretAsync(secretName, value, cancellationToken).ConfigureAwait(false);
            Interaction.WriteLine($"Stored the secret '{secretName}' (version {stored.Version}) in {secrets.Description}.");
            return ExitCodes.Ok;
        }
    }
}
