# The Functions app as a container for Azure Container Apps: the .NET isolated worker on the
# Azure Functions base image, plus the PostgreSQL client from the PostgreSQL project's own apt
# repository at the newest major sbk supports, so pg_dump is never older than a server it backs up
# (sbk refuses a pg_dump older than the server and names the client to install).
#
#   docker build -t serverlessbackup:dev .
#
# The build stage needs the NuGet packages the solution restores; nothing secret enters any layer.

ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0

FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props NuGet.config host.json ./
COPY src/ServerlessBackup.Core/ServerlessBackup.Core.csproj src/ServerlessBackup.Core/
COPY src/ServerlessBackup.Functions/ServerlessBackup.Functions.csproj src/ServerlessBackup.Functions/
RUN dotnet restore src/ServerlessBackup.Functions/ServerlessBackup.Functions.csproj
COPY src/ServerlessBackup.Core/ src/ServerlessBackup.Core/
COPY src/ServerlessBackup.Functions/ src/ServerlessBackup.Functions/
RUN dotnet publish src/ServerlessBackup.Functions/ServerlessBackup.Functions.csproj -c Release --no-restore -o /home/site/wwwroot

FROM ${FUNCTIONS_IMAGE}
# The newest PostgreSQL client major sbk supports; pg_dump must be at least the server's major.
ARG POSTGRES_CLIENT_MAJOR=18
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl gnupg; \
    install -d -m 0755 /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_CLIENT_MAJOR}"; \
    apt-get purge -y --auto-remove curl gnupg; \
    rm -rf /var/lib/apt/lists/*; \
    ln -sf "/usr/lib/postgresql/${POSTGRES_CLIENT_MAJOR}/bin/pg_dump" /usr/local/bin/pg_dump; \
    ln -sf "/usr/lib/postgresql/${POSTGRES_CLIENT_MAJOR}/bin/pg_restore" /usr/local/bin/pg_restore; \
    pg_dump --version; pg_restore --version

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
COPY --from=build /home/site/wwwroot /home/site/wwwroot

# Health: the container is alive when the Functions host answers on port 80 (the Container Apps
# liveness probe checks the TCP port). GET /api/health is the catalog's freshness (200 when every
# database is OK, 503 otherwise): for uptime monitors and the deploy smoke test, not for restarts.
EXPOSE 80
