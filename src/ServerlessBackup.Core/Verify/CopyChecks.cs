using System.Globalization;
using Npgsql;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Dump;

namespace ServerlessBackup.Verify;

/// <summary>The checks run against a restored copy: the census and the catalog's assertions.</summary>
internal static class CopyChecks
{
    private const int AssertionTimeoutSeconds = 300;

    /// <summary>Every census table's exact row count and every sequence's state, compared with the census.</summary>
    public static async Task<(List<VerificationCheck> Checks, long RowsVerified)> CensusAsync(NpgsqlConnection copy, Census census, CancellationToken cancellationToken)
    {
        var checks = new List<VerificationCheck>();
        if (census.Mode == nameof(CensusMode.None))
        {
            checks.Add(new VerificationCheck("census", "census", false, Detail: "This backup has no census (the catalog says Census: None), so row counts cannot be compared. Set Census to Exact for this database."));
            return (checks, 0);
        }

        long rows = 0;
        foreach (var table in census.Tables)
        {
            var name = $"{table.Schema}.{table.Name}";
            var actual = await ScalarAsync(copy, $"SELECT count(*) FROM ONLY {SourceSession.Quote(table.Schema)}.{SourceSession.Quote(table.Name)}", cancellationToken).ConfigureAwait(false);
            if (actual.Error is not null)
            {
                checks.Add(new VerificationCheck("table", name, false, Expected: Count(table.Rows), Detail: $"Cannot count the restored table: {actual.Error}"));
            }
            else if (table.Estimated)
            {
                checks.Add(new VerificationCheck("table", name, true, Expected: "~" + Count(table.Rows), Actual: Convert.ToString(actual.Value, CultureInfo.InvariantCulture),
                    Detail: "The census holds an estimate for this table (Census: Estimate); the count is not compared."));
            }
            else
            {
                var count = Convert.ToInt64(actual.Value, CultureInfo.InvariantCulture);
                var passed = count == table.Rows;
                rows += passed ? count : 0;
                checks.Add(new VerificationCheck("table", name, passed, Count(table.Rows), Count(count),
                    passed ? null : $"The restored copy has {Count(count)} rows where the dump's snapshot had {Count(table.Rows)}."));
            }
        }

        foreach (var sequence in census.Sequences)
        {
            var name = $"{sequence.Schema}.{sequence.Name}";
            var expected = $"{sequence.LastValue.ToString(CultureInfo.InvariantCulture)}{(sequence.IsCalled ? string.Empty : " (not called)")}";
            await using var command = new NpgsqlCommand($"SELECT last_value, is_called FROM {SourceSession.Quote(sequence.Schema)}.{SourceSession.Quote(sequence.Name)}", copy);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var actual = $"{reader.GetInt64(0).ToString(CultureInfo.InvariantCulture)}{(reader.GetBoolean(1) ? string.Empty : " (not called)")}";
                checks.Add(new VerificationCheck("sequence", name, actual == expected, expected, actual, actual == expected ? null : "The restored sequence would hand out different values than the source did."));
            }
            catch (PostgresException ex)
            {
                checks.Add(new VerificationCheck("sequence", name, false, expected, Detail: $"Cannot read the restored sequence: {SecretRedactor.Redact(ex.MessageText)}"));
            }
        }

        return (checks, rows);
    }

    /// <summary>Runs each assertion in its own read-only transaction with a statement timeout.</summary>
    public static async Task<List<VerificationCheck>> AssertionsAsync(NpgsqlConnection copy, IReadOnlyList<AssertionOptions> assertions, CancellationToken cancellationToken)
    {
        var checks = new List<VerificationCheck>();
        foreach (var assertion in assertions)
        {
            checks.Add(await RunAssertionAsync(copy, assertion, cancellationToken).ConfigureAwait(false));
        }

        return checks;
    }

    private static async Task<VerificationCheck> RunAssertionAsync(NpgsqlConnection copy, AssertionOptions assertion, CancellationToken cancellationToken)
    {
        var name = assertion.Name!;
        var expected = assertion.Expect switch
        {
            AssertionExpectation.NoRows => "no rows",
            AssertionExpectation.Equals => "= " + assertion.Value,
            AssertionExpectation.AtLeast => ">= " + assertion.Value,
            _ => "<= " + assertion.Value,
        };
        await using var transaction = await copy.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var setup = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture, $"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '{AssertionTimeoutSeconds}s'"), copy, transaction))
            {
                await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = new NpgsqlCommand(assertion.Sql, copy, transaction) { CommandTimeout = AssertionTimeoutSeconds + 30 };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (assertion.Expect == AssertionExpectation.NoRows)
            {
                var rows = 0;
                while (rows < 1000 && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows++;
                }

                // Rows are counted, never shown: they may hold personal data.
                var actual = rows == 0 ? "no rows" : rows >= 1000 ? "1000 or more rows" : $"{rows} row(s)";
                return new VerificationCheck("assertion", name, rows == 0, expected, actual, rows == 0 ? null : $"The query returned {actual}; it must return none.");
            }

            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.FieldCount == 0)
            {
                return new VerificationCheck("assertion", name, false, expected, "no rows", "The query returned no rows; it must return one row whose first column is compared.");
            }

            var value = reader.IsDBNull(0) ? null : reader.GetValue(0);
            var text = value switch
            {
                null => "null",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "null",
            };
            if (assertion.Expect == AssertionExpectation.Equals)
            {
                var passed = text == assertion.Value;
                return new VerificationCheck("assertion", name, passed, expected, text, passed ? null : $"The query returned {text}, not {assertion.Value}.");
            }

            if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return new VerificationCheck("assertion", name, false, expected, text, "The query's first column is not a number.");
            }

            var bound = decimal.Parse(assertion.Value!, NumberStyles.Number, CultureInfo.InvariantCulture);
            var ok = assertion.Expect == AssertionExpectation.AtLeast ? number >= bound : number <= bound;
            return new VerificationCheck("assertion", name, ok, expected, text, ok ? null : $"The query returned {text}, which is {(assertion.Expect == AssertionExpectation.AtLeast ? "below" : "above")} {assertion.Value}.");
        }
        catch (PostgresException ex)
        {
            return new VerificationCheck("assertion", name, false, expected, Detail: $"The query failed: {SecretRedactor.Redact(ex.MessageText)} (SQLSTATE {ex.SqlState}).");
        }
        finally
        {
            try
            {
                // Read only: there is nothing to commit.
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // The connection is gone; the next check reports it.
            }
        }
    }

    private static async Task<(object? Value, string? Error)> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        try
        {
            return (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (PostgresException ex)
        {
            return (null, SecretRedactor.Redact(ex.MessageText));
        }
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
