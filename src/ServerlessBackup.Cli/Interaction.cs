using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ServerlessBackup.Backups;
using Spectre.Console;

namespace ServerlessBackup.Cli;

/// <summary>
/// All terminal output goes through here: results on stdout (tables or --json), errors and
/// progress on stderr; a live progress bar only when stderr is a terminal, plain lines otherwise.
/// </summary>
internal sealed class Interaction
{
    private static readonly JsonSerializerOptions Json = SbkJson.AddNamedEnums(new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(CliJsonContext.Default, SbkJsonContext.Default),
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });

    public Interaction(TextWriter? output = null, TextWriter? error = null, bool? interactive = null)
    {
        Output = output ?? Console.Out;
        Error = error ?? Console.Error;
        IsInteractive = interactive ?? (!Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null);
        Console_ = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Output) });
        if (Console.IsOutputRedirected || output is not null)
        {
            // Redirected to a file or a pipe: no terminal width to respect, and wrapped names (scratch databases, backup ids) cannot be copied.
            Console_.Profile.Width = 200;
        }

        ErrorConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Error) });
    }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public bool IsInteractive { get; }

    public IAnsiConsole Console_ { get; }

    private IAnsiConsole ErrorConsole { get; }

    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, Json.Info<T>()));

    public void WriteLine(string text) => Output.WriteLine(text);

    public void WriteError(string message) => Error.WriteLine("error: " + message);

    public void WriteNote(string message) => Error.WriteLine(message);

    /// <summary>Runs <paramref name="work"/> showing its progress: a bar on a terminal, a line every few seconds otherwise.</summary>
    public async Task<T> WithProgressAsync<T>(string title, Func<IProgress<WorkProgress>, Task<T>> work)
    {
        if (!IsInteractive)
        {
            var last = Stopwatch.StartNew();
            var lines = new Progress<WorkProgress>(p =>
            {
                if (p.Phase is WorkPhase.Done or WorkPhase.Committing || last.Elapsed >= TimeSpan.FromSeconds(5))
                {
                    last.Restart();
                    Error.WriteLine(Describe(title, p));
                }
            });
            return await work(lines).ConfigureAwait(false);
        }

        T result = default!;
        await ErrorConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                task.IsIndeterminate = true;
                var progress = new SyncProgress(p => task.Description = Markup.Escape(Describe(title, p)));
                result = await work(progress).ConfigureAwait(false);
                task.StopTask();
            }).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, showing one line per item (a database: its phase and how long
    /// it has been in it): a live table on a terminal, a line per change otherwise.
    /// </summary>
    public async Task<T> WithLiveLinesAsync<T>(Func<Action<IReadOnlyDictionary<string, (string Phase, DateTimeOffset Since)>>, Task<T>> work)
    {
        var started = DateTimeOffset.UtcNow;
        if (!IsInteractive)
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            return await work(items =>
            {
                foreach (var (name, (phase, _)) in items)
                {
                    if (seen.GetValueOrDefault(name) != phase)
                    {
                        seen[name] = phase;
                        Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTimeOffset.UtcNow - started:hh\\:mm\\:ss}] {name}: {phase}"));
                    }
                }
            }).ConfigureAwait(false);
        }

        var latest = new Dictionary<string, (string Phase, DateTimeOffset Since)>(StringComparer.Ordinal);
        var table = new Table().AddColumns("Database", "Phase", "For");
        T result = default!;
        await ErrorConsole.Live(table).AutoClear(false).StartAsync(async ctx =>
        {
            using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var task = work(items =>
            {
                lock (latest)
                {
                    foreach (var (name, value) in items)
                    {
                        latest[name] = value;
                    }
                }
            });
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, ticker.WaitForNextTickAsync().AsTask()).ConfigureAwait(false);
                lock (latest)
                {
                    table.Rows.Clear();
                    foreach (var (name, (phase, since)) in latest.OrderBy(l => l.Key, StringComparer.Ordinal))
                    {
                        table.AddRow(Markup.Escape(name), Markup.Escape(phase), string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow - since:mm\\:ss}"));
                    }
                }

                ctx.Refresh();
            }

            result = await task.ConfigureAwait(false);
        }).ConfigureAwait(false);
        return result;
    }

    internal static string Describe(string title, WorkProgress p)
    {
        var seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
        var rate = p.SourceBytes / seconds;
        // First where a narrow terminal cuts the line: a parallel restore's tables go on loading long after its bytes are in.
        var tables = p.Tables > 0 ? string.Create(CultureInfo.InvariantCulture, $" {p.TablesLoaded} of {p.Tables} tables loaded,") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"{title}: {p.Phase.ToString().ToLowerInvariant()},{tables} {Bytes(p.SourceBytes)} read, {Bytes(p.StoredBytes)} written, {Bytes((long)rate)}/s, {p.Elapsed:hh\\:mm\\:ss}");
    }

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    /// <summary>Progress that reports on the caller's thread (Spectre redraws on its own).</summary>
    private sealed class SyncProgress(Action<WorkProgress> handler) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => handler(value);
    }
}
