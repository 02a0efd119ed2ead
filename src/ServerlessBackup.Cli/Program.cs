using System.CommandLine;
using ServerlessBackup.Cli;
using ServerlessBackup.Cli.Commands;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;

return await SbkProgram.RunAsync(args, handleSignals: true).ConfigureAwait(false);

namespace ServerlessBackup.Cli
{
    /// <summary>sbk's entry point: builds the commands and is the one place errors are turned into messages and exit codes.</summary>
    internal static class SbkProgram
    {
        public static RootCommand BuildRoot(Interaction interaction)
        {
            var root = new RootCommand("sbk: encrypted, verified PostgreSQL backups into Azure Blob Storage (or a local directory).");
            root.Options.Add(GlobalOptions.Config);
            root.Options.Add(GlobalOptions.Verbose);
            root.Subcommands.Add(new BackupCommand(interaction));
            root.Subcommands.Add(new ListCommand(interaction));
            root.Subcommands.Add(new ShowCommand(interaction));
            root.Subcommands.Add(new DecryptCommand(interaction));
            root.Subcommands.Add(new RestoreCommand(interaction));
            root.Subcommands.Add(new VerifyCommand(interaction));
            root.Subcommands.Add(new ScratchCommand(interaction));
            root.Subcommands.Add(new PreviousCommand(interaction));
            root.Subcommands.Add(new DrillCommand(interaction));
            root.Subcommands.Add(new RunDueCommand(interaction));
            root.Subcommands.Add(new ServeCommand(interaction));
            root.Subcommands.Add(new StatusCommand(interaction));
            root.Subcommands.Add(new PruneCommand(interaction));
            root.Subcommands.Add(new HoldCommand(interaction, release: false));
            root.Subcommands.Add(new HoldCommand(interaction, release: true));
            root.Subcommands.Add(new KeysCommand(interaction));
            root.Subcommands.Add(new SecretsCommand(interaction));
            root.Subcommands.Add(new AuditCommand(interaction));
            return root;
        }

        /// <summary>Parses and runs one command; returns its exit code.</summary>
        /// <param name="args">The command line.</param>
        /// <param name="interaction">The console (tests pass their own).</param>
        /// <param name="cancellationToken">Stops the command, as Ctrl+C does.</param>
        /// <param name="handleSignals">
        /// Take SIGINT and SIGTERM (the real process only): the first one stops the command, which
        /// then undoes what it started and says what (exit 130); a second one ends sbk at once.
        /// </param>
        public static async Task<int> RunAsync(string[] args, Interaction? interaction = null, CancellationToken cancellationToken = default, bool handleSignals = false)
        {
            interaction ??= new Interaction();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var signals = handleSignals ? new StopSignals(stop, interaction) : null;
            var root = BuildRoot(interaction);
            ParseResult parse;
            try
            {
                parse = root.Parse(args);
            }
            catch (InvalidOperationException ex)
            {
                // A value read while parsing that did not convert: bad input, said as such, never a stack trace.
                interaction.WriteError(ex.Message);
                interaction.WriteNote("Run 'sbk --help' (or 'sbk <command> --help') for usage.");
                return ExitCodes.Usage;
            }

            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                {
                    interaction.WriteError(error.Message);
                }

                interaction.WriteNote("Run 'sbk --help' (or 'sbk <command> --help') for usage.");
                return ExitCodes.Usage;
            }

            try
            {
                var configuration = new InvocationConfiguration
                {
                    EnableDefaultExceptionHandler = false,

                    // System.CommandLine would return after 2 s of a signal and let the process end mid-cleanup; sbk takes the signals itself.
                    ProcessTerminationTimeout = null,
                    Output = interaction.Output,
                    Error = interaction.Error,
                };
                return await parse.InvokeAsync(configuration, stop.Token).ConfigureAwait(false);
            }
            catch (CancelledException ex)
            {
                interaction.WriteError("cancelled. " + SecretRedactor.Redact(ex.Message));
                return ExitCodes.Cancelled;
            }
            catch (OperationCanceledException)
            {
                interaction.WriteError("cancelled; nothing partial was kept.");
                return ExitCodes.Cancelled;
            }
            catch (SbkException ex)
            {
                interaction.WriteError(SecretRedactor.Redact(ex.Message));
                return ExitCodes.For(ex.Kind);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                interaction.WriteError(SecretRedactor.Redact(ex.Message));
                return ExitCodes.Failed;
            }
            catch (Exception ex)
            {
                // A bug: say so plainly, without a stack trace unless asked for.
                interaction.WriteError($"unexpected {ex.GetType().Name}: {SecretRedactor.Redact(ex.Message)}. This is a bug in sbk; run again with SBK_DEBUG=1 for details and report it.");
                if (Environment.GetEnvironmentVariable("SBK_DEBUG") == "1")
                {
                    interaction.WriteNote(SecretRedactor.Redact(ex.ToString()));
                }

                return ExitCodes.Failed;
            }
        }
    }
}
