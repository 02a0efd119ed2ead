using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessBackup.Restore;

/// <summary>
/// Builds a pg_restore <c>--use-list</c> file from <c>pg_restore --list</c> output, for restores of
/// chosen tables. Entries keep their archive order (so the list works on a streamed archive);
/// unwanted ones are commented out. pg_dump orders its TOC by section (pre-data, data,
/// post-data), which is how an entry's section is told.
/// </summary>
internal static partial class TocFilter
{
    private static readonly string[] DataKinds = ["TABLE DATA ", "SEQUENCE SET ", "BLOBS ", "BLOB DATA ", "LARGE OBJECT "];
    // Post-data entries that belong to a table: an index's tag names the index, not its table, so every table's are kept (the other tables are empty, so they cost nothing).
    private static readonly string[] PostDataKinds = ["INDEX ", "INDEX ATTACH ", "CONSTRAINT ", "CHECK CONSTRAINT ", "FK CONSTRAINT ", "TRIGGER ", "POLICY ", "ROW SECURITY ", "RULE "];

    // "215; 1259 16386 TABLE Billing Customer Accounts postgres"
    [GeneratedRegex(@"^(\d+); \d+ \d+ (.*)$")]
    private static partial Regex EntryPattern();

    /// <summary>
    /// The list for a fresh, empty database: the whole schema before data (types, schemas,
    /// functions, every table definition), the data of the chosen tables and every sequence's
    /// value, then the tables' indexes, constraints, triggers, policies and rules, so a chosen
    /// table comes back as it was, not only its rows. Left out: the chosen tables' foreign keys
    /// (the tables they point at stay empty, so they would fail) and materialized view refreshes.
    /// </summary>
    public static (string List, int DataEntries) ForFreshDatabase(string listing, IReadOnlyList<(string Schema, string Name)> tables) =>
        Build(listing, (section, rest) => section switch
        {
            Section.Pre => true,
            Section.Data => rest.StartsWith("SEQUENCE SET ", StringComparison.Ordinal) || IsTableEntry(rest, "TABLE DATA ", tables),
            _ => PostDataKinds.Any(kind => rest.StartsWith(kind, StringComparison.Ordinal))
                && !tables.Any(t => rest.StartsWith($"FK CONSTRAINT {t.Schema} {t.Name} ", StringComparison.Ordinal)),
        }, tables);

    /// <summary>The list for an existing schema: only the chosen tables' data.</summary>
    public static (string List, int DataEntries) DataOnly(string listing, IReadOnlyList<(string Schema, string Name)> tables) =>
        Build(listing, (_, rest) => IsTableEntry(rest, "TABLE DATA ", tables), tables);

    private static (string List, int DataEntries) Build(string listing, Func<Section, string, bool> keep, IReadOnlyList<(string Schema, string Name)> tables)
    {
        var output = new StringBuilder();
        var section = Section.Pre;
        var dataEntries = 0;
        foreach (var line in listing.Split('\n'))
        {
            var match = EntryPattern().Match(line.TrimEnd('\r'));
            if (!match.Success)
            {
                continue;
            }

            var rest = match.Groups[2].Value;
            var isData = DataKinds.Any(kind => rest.StartsWith(kind, StringComparison.Ordinal));
            section = isData ? Section.Data : section == Section.Data ? Section.Post : section;
            if (keep(section, rest))
            {
                output.Append(line.TrimEnd('\r')).Append('\n');
                if (IsTableEntry(rest, "TABLE DATA ", tables))
                {
                    dataEntries++;
                }
            }
        }

        return (output.ToString(), dataEntries);
    }

    /// <summary>"KIND schema name owner" for one of <paramref name="tables"/>; the remainder must be a single word (the owner).</summary>
    private static bool IsTableEntry(string rest, string kind, IReadOnlyList<(string Schema, string Name)> tables) =>
        tables.Any(t =>
        {
            var prefix = $"{kind}{t.Schema} {t.Name} ";
            return rest.StartsWith(prefix, StringComparison.Ordinal) && !rest.AsSpan(prefix.Length).Contains(' ');
        });

    private enum Section
    {
        Pre,
        Data,
        Post,
    }
}
