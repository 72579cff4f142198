"""Support code of the tests: settings modules, URLconfs and views the tests serve, servers,
terminals and the checks many test folders share. No tests here."""
