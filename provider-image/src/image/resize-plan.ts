/** The resize geometry lives in @argus/protocol: the web UI's browser recompute cuts the same pixels. */
export * from "@argus/protocol/resize-plan";
