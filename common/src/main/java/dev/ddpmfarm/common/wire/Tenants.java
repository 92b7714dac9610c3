package dev.ddpmfarm.common.wire;

import java.util.regex.Pattern;

/** Tenant names: they appear in object keys (SPEC §6), so they are restricted to a safe alphabet. */
public final class Tenants {
    public static final String PATTERN = "[a-z0-9][a-z0-9_-]{0,63}";
    private static final Pattern FORMAT = Pattern.compile(PATTERN);

    private Tenants() {
    }

    public static boolean valid(String tenant) {
        return tenant != null && FORMAT.matcher(tenant).matches();
    }
}
