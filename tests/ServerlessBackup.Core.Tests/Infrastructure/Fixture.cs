namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>The round-trip fixture: types and objects a real application uses, and the awkward ones.</summary>
internal static class Fixture
{
    public const string Schema = """
        CREATE TYPE mood AS ENUM ('happy', 'sad', 'ünïcödé');
        CREATE SCHEMA "Billing";
        CREATE TABLE "Billing"."Customer Accounts" (
            "Id" serial PRIMARY KEY,
            "DisplayName" text NOT NULL,
            mood mood,
            balance numeric(12, 2),
            tags text[],
            profile jsonb,
            avatar bytea,
            created timestamptz DEFAULT '2020-02-29 12:00:00+00'
        );
        CREATE TABLE "Billing".invoices (
            id bigserial PRIMARY KEY,
            account_id int NOT NULL REFERENCES "Billing"."Customer Accounts"("Id") ON DELETE CASCADE,
            amount numeric(12, 2) NOT NULL,
            note text,
            big text
        );
        CREATE SEQUENCE standalone_seq START 1000 INCREMENT 7;
        CREATE VIEW "Billing".totals AS SELECT account_id, sum(amount) AS total FROM "Billing".invoices GROUP BY account_id;
        CREATE TABLE empty_table (id int);
        INSERT INTO "Billing"."Customer Accounts" ("DisplayName", mood, balance, tags, profile, avatar)
        SELECT 'Kunde ' || g || ' — 名前 ' || chr(128512), (ARRAY['happy', 'sad', 'ünïcödé']::mood[])[1 + g % 3],
               CASE WHEN g % 5 = 0 THEN NULL ELSE g * 1.25 END,
               ARRAY['a' || g, 'b''quote', 'c"dq'],
               jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 2 = 0), 'nul', NULL),
               CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END
        FROM generate_series(1, 500) g;
        INSERT INTO "Billing".invoices (account_id, amount, note, big)
        SELECT 1 + g % 500, g / 3.0, CASE WHEN g % 7 = 0 THEN NULL ELSE E'line1\nline2\ttab \\ backslash' END,
               CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 10000) END
        FROM generate_series(1, 3000) g;
        SELECT setval('standalone_seq', 4242, true);
        """;
}
