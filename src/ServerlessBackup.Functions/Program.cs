using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessBackup.Errors;
using ServerlessBackup.Functions;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
try
{
    FunctionsApp.ConfigureServices(builder.Services, builder.Configuration);
}
catch (SbkException ex)
{
    await Console.Error.WriteLineAsync($"ServerlessBackup cannot start: {ex.Message}").ConfigureAwait(false);
    return 1;
}

var app = builder.Build();
if (!FunctionsApp.Validate(app.Services, Console.Error))
{
    return 1;
}

await app.RunAsync().ConfigureAwait(false);
return 0;
