pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.app",
    "tests.plugins.netsuite_sandbox",
    "tests.plugins.splynx_sandbox",
    "tests.plugins.configured",
    "tests.plugins.exports",
    "tests.plugins.jobs",
    "tests.plugins.live",
]
