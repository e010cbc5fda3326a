import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import { Product, ProductSku } from './store.entity';
import type { MemberTiers } from './store.ports';
import { memberPrice } from './member-price';

export interface ProductInput {
  title: string;
  description?: string;
  images?: string[];
  active?: boolean;
  sort?: number;
}

export interface SkuInput {
  name: string;
  priceFen: number;
  stock: number;
  active?: boolean;
}

export interface CartView {
  items: Array<{
    skuId: string;
    productId: string;
    title: string;
    skuName: string;
    imageUrl: string | null;
    priceFen: number;
    memberPriceFen: number;
    quantity: number;
    stock: number;
  }>;
}

const MAX_CART_LINES = 50;

/** Products, SKUs and stock as the merchant keeps them; member prices by tier; the member's cart. */
export class CatalogService {
  constructor(
    private readonly db: Db,
    private readonly tiers: MemberTiers,
  ) {}

  async listForMember(ctx: Ctx, memberId: string) {
    const tier = await this.tiers.tierOf(ctx, memberId);
    const list = await this.db.rows<{ id: string; title: string; images: string[]; price_fen: number; stock: number }>(ctx, `SELECT p.id, p.title, p.images, min(s.price_fen)::int AS price_fen, sum(s.stock)::int AS stock
       FROM product p JOIN product_sku s ON s.product_id = p.id AND s.active
       WHERE p.active GROUP BY p.id ORDER BY p.sort DESC, p.created_at DESC`,
    );
    return list.map((p) => ({
      id: p.id,
      title: p.title,
      imageUrl: p.images[0] ?? null,
      priceFen: p.price_fen,
      memberPriceFen: memberPrice(p.price_fen, tier.discountPercent),
      stock: p.stock,
    }));
  }

  async detailForMember(ctx: Ctx, memberId: string, productId: string) {
    const product = await this.db.repo(ctx, Product).findOneBy({ id: productId, active: true });
    if (!product) throw notFound('product_not_found', 'No such product');
    const tier = await this.tiers.tierOf(ctx, memberId);
    const skus = await this.db.repo(ctx, ProductSku).find({ where: { productId, active: true }, order: { priceFen: 'ASC', createdAt: 'ASC' } });
    return {
      id: product.id,
      title: product.title,
      description: product.description,
      images: product.images,
      skus: skus.map((s) => ({ id: s.id, name: s.name, priceFen: s.priceFen, memberPriceFen: memberPrice(s.priceFen, tier.discountPercent), stock: s.stock })),
    };
  }

  async cart(ctx: Ctx, memberId: string): Promise<CartView> {
    const tier = await this.tiers.tierOf(ctx, memberId);
    const lines = await this.db.rows<{ sku_id: string; product_id: string; title: string; sku_name: string; images: string[]; price_fen: number; quantity: number; stock: number }>(ctx, `SELECT c.sku_id, s.product_id, p.title, s.name AS sku_name, p.images, s.price_fen, c.quantity, s.stock
       FROM cart_item c JOIN product_sku s ON s.id = c.sku_id JOIN product p ON p.id = s.product_id
       WHERE c.member_id = $1 AND s.active AND p.active ORDER BY c.updated_at DESC`,
      [memberId],
    );
    return {
      items: lines.map((l) => ({
        skuId: l.sku_id,
        productId: l.product_id,
        title: l.title,
        skuName: l.sku_name,
        imageUrl: l.images[0] ?? null,
        priceFen: l.price_fen,
        memberPriceFen: memberPrice(l.price_fen, tier.discountPercent),
        quantity: l.quantity,
        stock: l.stock,
      })),
    };
  }

  async setCartItem(ctx: Ctx, memberId: string, skuId: string, quantity: number): Promise<CartView> {
    if (quantity === 0) {
      await this.db.rows(ctx, 'DELETE FROM cart_item WHERE member_id = $1 AND sku_id = $2', [memberId, skuId]);
      return this.cart(ctx, memberId);
    }
    await this.db.transaction(ctx, async (tx) => {
      const [sku] = await this.db.rows(tx, 'SELECT 1 FROM product_sku s JOIN product p ON p.id = s.product_id WHERE s.id = $1 AND s.active AND p.active', [skuId]);
      if (!sku) throw notFound('sku_not_found', 'No such product option');
      const [{ n }] = await this.db.rows<{ n: number }>(tx, 'SELECT count(*)::int AS n FROM cart_item WHERE member_id = $1 AND sku_id <> $2', [memberId, skuId]);
      if (n >= MAX_CART_LINES) throw conflict('cart_full', `At most ${MAX_CART_LINES} lines in the cart`);
      await this.db.rows(tx, `INSERT INTO cart_item (member_id, sku_id, quantity, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (member_id, sku_id) DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = now()`,
        [memberId, skuId, quantity],
      );
    });
    return this.cart(ctx, memberId);
  }

  /** After checkout the ordered lines leave the cart. */
  async removeFromCart(ctx: Ctx, memberId: string, skuIds: string[]): Promise<void> {
    await this.db.rows(ctx, 'DELETE FROM cart_item WHERE member_id = $1 AND sku_id = ANY($2::uuid[])', [memberId, skuIds]);
  }

  // The merchant's side.

  async adminList(ctx: Ctx) {
    const products = await this.db.repo(ctx, Product).find({ order: { sort: 'DESC', createdAt: 'DESC' } });
    const skus = await this.db.repo(ctx, ProductSku).find({ order: { createdAt: 'ASC' } });
    return products.map((p) => ({ ...adminProduct(p), skus: skus.filter((s) => s.productId === p.id).map(adminSku) }));
  }

  async adminGet(ctx: Ctx, id: string) {
    const p = await this.db.repo(ctx, Product).findOneBy({ id });
    if (!p) throw notFound('product_not_found', 'No such product');
    const skus = await this.db.repo(ctx, ProductSku).find({ where: { productId: id }, order: { createdAt: 'ASC' } });
    return { ...adminProduct(p), skus: skus.map(adminSku) };
  }

  async createProduct(ctx: Ctx, input: ProductInput & { skus: SkuInput[] }) {
    const id = await this.db.transaction(ctx, async (tx) => {
      const p = await this.db.repo(tx, Product).save({
        title: input.title,
        description: input.description ?? '',
        images: input.images ?? [],
        active: input.active ?? true,
        sort: input.sort ?? 0,
      });
      for (const s of input.skus) await this.db.repo(tx, ProductSku).insert({ productId: p.id, name: s.name, priceFen: s.priceFen, stock: s.stock, active: s.active ?? true });
      return p.id;
    });
    return this.adminGet(ctx, id);
  }

  async updateProduct(ctx: Ctx, id: string, input: Partial<ProductInput>) {
    const res = await this.db.repo(ctx, Product).update({ id }, input);
    if (!res.affected) throw notFound('product_not_found', 'No such product');
    return this.adminGet(ctx, id);
  }

  async addSku(ctx: Ctx, productId: string, input: SkuInput) {
    await this.adminGet(ctx, productId);
    await this.db.repo(ctx, ProductSku).insert({ productId, name: input.name, priceFen: input.priceFen, stock: input.stock, active: input.active ?? true });
    return this.adminGet(ctx, productId);
  }

  /** Name, price and on/off; stock moves only by stockDelta, relative, so a sale in between is never overwritten. */
  async updateSku(ctx: Ctx, skuId: string, input: { name?: string; priceFen?: number; active?: boolean; stockDelta?: number }) {
    const [sku] = await this.db.rows<{ product_id: string }>(ctx, `UPDATE product_sku SET name = COALESCE($2, name), price_fen = COALESCE($3, price_fen), active = COALESCE($4, active),
         stock = stock + $5
       WHERE id = $1 AND stock + $5 >= 0 RETURNING product_id`,
      [skuId, input.name ?? null, input.priceFen ?? null, input.active ?? null, input.stockDelta ?? 0],
    );
    if (!sku) {
      const exists = await this.db.repo(ctx, ProductSku).existsBy({ id: skuId });
      if (!exists) throw notFound('sku_not_found', 'No such product option');
      throw invalid('stock_negative', 'Stock cannot go below zero');
    }
    return this.adminGet(ctx, sku.product_id);
  }
}

function adminProduct(p: Product) {
  return { id: p.id, title: p.title, description: p.description, images: p.images, active: p.active, sort: p.sort, createdAt: p.createdAt.toISOString() };
}

function adminSku(s: ProductSku) {
  return { id: s.id, name: s.name, priceFen: s.priceFen, stock: s.stock, active: s.active };
}
