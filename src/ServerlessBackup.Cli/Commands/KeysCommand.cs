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
            var (previous, current) = await context.Get<Crypto.MasterKeyProvider>().RotateAsync(cancellationToken).ConfigureAwait(false);
            Interaction.WriteLine($"Rotated the master key '{context.Options.MasterKeySecret}': version {current} is current; version {previous} and older stay in {context.Get<Secrets.ISecretStore>().Description} for older backups. Never delete them while a backup they wrapped is kept.");
            return ExitCodes.Ok;
        }
    }

    private sealed class InitCommand(Interaction interaction)
        : SbkCommand("init", "Create the master key (32 random bytes) in the configured secret store, if it does not exist yet.", interaction)
    {
        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("keys init", null);

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var where = context.Get<Secrets.ISecretStore>().Description;
            var name = context.Options.MasterKeySecret;
            var (version, created) = await context.Get<Crypto.MasterKeyProvider>().EnsureAsync(cancellationToken).ConfigureAwait(false);
            if (!created)
            {
                Interaction.WriteLine($"The master key '{name}' already exists (version {version}) in {where}; nothing changed.");
                return ExitCodes.Ok;
            }

            Interaction.WriteLine($"Created the master key '{name}' (version {version}) in {where}.");
            Interaction.WriteNote("Keep a copy of it somewhere safe and separate from the backups: without it no backup can be decrypted.");
            return ExitCodes.Ok;
        }
    }
}
