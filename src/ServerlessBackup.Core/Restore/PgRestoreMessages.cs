using System.Text;
using ServerlessBackup.Diagnostics;

namespace ServerlessBackup.Restore;

/// <summary>
/// Collects pg_restore's standard error as it arrives: each error (a <c>pg_restore: error:</c>
/// line and the lines that follow it, such as <c>Command was: …</c>) is counted and matched
/// against the tolerated fragments; the first few of each kind are kept for the report. Memory
/// stays bounded however many errors there are.
/// </summary>
internal sealed class PgRestoreMessages(IReadOnlyList<string> tolerated)
{
    private const int Keep = 5;
    private const int EntryLimit = 4096;
    private readonly List<string> failures = [];
    private readonly List<string> toleratedFirst = [];
    private readonly StringBuilder other = new();
    private StringBuilder? entry;

    /// <summary>Errors that no tolerated fragment matched.</summary>
    public int ErrorCount { get; private set; }

    /// <summary>Errors a tolerated fragment matched.</summary>
    public int ToleratedCount { get; private set; }

    /// <summary>The first untolerated errors (first line of each, redacted).</summary>
    public IReadOnlyList<string> FirstErrors => failures;

    /// <summary>The first tolerated errors.</summary>
    public IReadOnlyList<string> FirstTolerated => toleratedFirst;

    /// <summary>Lines that were not part of an error (warnings), up to a few KiB.</summary>
    public string Other => other.ToString();

    public void AddLine(string line)
    {
        if (line.StartsWith("pg_restore: error:", StringComparison.Ordinal))
        {
            Flush();
            entry = new StringBuilder(line);
            return;
        }

        if (entry is not null && !line.StartsWith("pg_restore: ", StringComparison.Ordinal))
        {
            if (entry.Length < EntryLimit)
            {
                entry.Append('\n').Append(line);
            }

            return;
        }

        Flush();
        if (other.Length < EntryLimit && !line.StartsWith("pg_restore: warning: errors ignored on restore", StringComparison.Ordinal)
            && !line.StartsWith("pg_restore: from TOC entry", StringComparison.Ordinal) && !line.StartsWith("pg_restore: while PROCESSING TOC", StringComparison.Ordinal))
        {
            other.Append(line).Append('\n');
        }
    }

    /// <summary>Adds what another pg_restore of the same restore reported (one restore run as several processes).</summary>
    public void Absorb(PgRestoreMessages other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Flush();
        other.Flush();
        ErrorCount += other.ErrorCount;
        ToleratedCount += other.ToleratedCount;
        failures.AddRange(other.failures.Take(Keep - failures.Count));
        toleratedFirst.AddRange(other.toleratedFirst.Take(Keep - toleratedFirst.Count));
        if (this.other.Length < EntryLimit)
        {
            this.other.Append(other.other);
        }
    }

    /// <summary>Ends the last error entry.</summary>
    public void Flush()
    {
        if (entry is null)
        {
            return;
        }

        var text = entry.ToString();
        entry = null;
        var firstLine = SecretRedactor.Redact(text.Split('\n')[0]["pg_restore: error: ".Length..].Trim());
        if (tolerated.Any(t => text.Contains(t, StringComparison.OrdinalIgnoreCase)))
        {
            ToleratedCount++;
            if (toleratedFirst.Count < Keep)
            {
                toleratedFirst.Add(firstLine);
            }
        }
        else
        {
            ErrorCount++;
            if (failures.Count < Keep)
            {
                failures.Add(firstLine);
            }
        }
    }
}
