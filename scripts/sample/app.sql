-- A small, realistic application database for the demo: users, submissions carrying personal
-- data, file attachments and an audit log. Generated rows; no real person's data.
CREATE TYPE submission_status AS ENUM ('draft', 'submitted', 'approved', 'rejected');

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    mobile      text UNIQUE,
    full_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE submissions (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title          text NOT NULL,
    body           text,
    personal_data  jsonb,
    status         submission_status NOT NULL DEFAULT 'draft',
    votes          integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attachments (
    id             bigserial PRIMARY KEY,
    submission_id  bigint NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    filename       text NOT NULL,
    content        bytea NOT NULL,
    sha256         text NOT NULL
);

CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    bigint REFERENCES users(id) ON DELETE SET NULL,
    action   text NOT NULL,
    details  jsonb
);

INSERT INTO users (email, mobile, full_name, created_at)
SELECT format('user%s@example.org', g), format('+4479%08s', g), format('User Number %s', g),
       now() - (g || ' hours')::interval
FROM generate_series(1, 2000) g;

INSERT INTO submissions (user_id, title, body, personal_data, status, votes, created_at)
SELECT 1 + (g % 2000), format('Submission %s', g), repeat(md5(g::text), 8),
       jsonb_build_object('date_of_birth', date '1970-01-01' + (g % 15000), 'postcode', format('AB%s %sCD', g % 99, g % 9)),
       (ARRAY['draft', 'submitted', 'approved', 'rejected']::submission_status[])[1 + g % 4], g % 50,
       now() - (g || ' minutes')::interval
FROM generate_series(1, 10000) g;

INSERT INTO attachments (submission_id, filename, content, sha256)
SELECT 1 + (g % 10000), format('scan-%s.pdf', g), decode(repeat(md5(g::text), 64), 'hex'), encode(sha256(decode(repeat(md5(g::text), 64), 'hex')), 'hex')
FROM generate_series(1, 3000) g;

INSERT INTO audit_log (actor, action, details)
SELECT 1 + (g % 2000), (ARRAY['login', 'submit', 'approve', 'export'])[1 + g % 4], jsonb_build_object('ip', format('10.0.%s.%s', g % 255, g % 250))
FROM generate_series(1, 20000) g;

ANALYZE;
