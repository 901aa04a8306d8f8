export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const LISTING_PROFILES = Symbol('LISTING_PROFILES');
