using System.CommandLine;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk keys init|rotate</c>: creates, or adds a new version of, the master key in the configured secret store.</summary>
internal sealed class KeysCommand : Command
{
    public KeysCommand(Interaction interaction)
        : base("keys", "Manage the master key that wraps every backup's data key.")
    {
        Subcommands.Add(new InitCommand(interaction));
        Subcommands.Add(new RotateCommand(interaction));
    }

    private sealed class RotateCommand(Interaction interaction)
        : SbkCommand("rotate", "Create a new version of the master key: new backups use it; old backups still decrypt with the version their manifest names.", interaction)
    {
        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("keys rotate", null);

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var secrets = context.Get<Secrets.ISecretStore>();
            var name = context.Options.MasterKeySecret;
            var current = await secrets.GetSecretAsync(name, null, cancellationToken).ConfigureAwait(false);
            MasterKey.FromSecret(current);
            var created = await secrets.SetSecretAsync(name, MasterKey.GenerateSecretValue(), cancellationToken).ConfigureAwait(false);
            Interaction.WriteLine($"Rotated the master key '{name}': version {created.Version} is current; version {current.Version} and older stay in {secrets.Description} for older backups. Never delete them while a backup they wrapped is kept.");
            return ExitCodes.Ok;
        }
    }

    private sealed class InitCommand(Interaction interaction)
        : SbkCommand("init", "Create the master key (32 random bytes) in the configured secret store, if it does not exist yet.", interaction)
    {
        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("keys init", null);

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var secrets = context.Get<Secrets.ISecretStore>();
            var name = context.Options.MasterKeySecret;
            try
            {
                var existing = await secrets.GetSecretAsync(name, null, cancellationToken).ConfigureAwait(false);
                MasterKey.FromSecret(existing);
                Interaction.WriteLine($"The master key '{name}' already exists (version {existing.Version}) in {secrets.Description}; nothing changed.");
                return ExitCodes.Ok;
            }
            catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
            {
                // Not there yet: create it below.
            }

            var created = await secrets.SetSecretAsync(name, MasterKey.GenerateSecretValue(), cancellationToken).ConfigureAwait(false);
            Interaction.WriteLine($"Created the master key '{name}' (version {created.Version}) in {secrets.Description}.");
            Interaction.WriteNote("Keep a copy of it somewhere safe and separate from the backups: without it no backup can be decrypted.");
            return ExitCodes.Ok;
        }
    }
}
