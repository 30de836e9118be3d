/** The package version, kept in one place for the CLI and the reports. */
export const RTAP_VERSION = "0.1.0";
