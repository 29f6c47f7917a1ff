"""The pages of the market's own and their first texts, in Persian and English.

The migration that made the ``site_page`` table stored these texts; staff edit them at
``/admin/pages``. A key without a row (a page added later, a database made by ``create_all``)
shows its text from here. ``{receipt_days}`` and ``{answer_days}`` are filled in from the
settings of the same names when a page is shown.
"""

from __future__ import annotations

from typing import NamedTuple


class PageText(NamedTuple):
    title_fa: str
    title_en: str
    body_fa: str
    body_en: str


ABOUT = PageText(
    "درباره بازارچه",
    "About Bazarche",
    """بازارچه بازار اینترنتی طرح ملی توسعه مشاغل خانگی است. هر فروشنده این بازار یک کسب‌وکار خانگی است که در دوره‌های آموزشی طرح شرکت کرده، پرونده‌اش را کارشناسان طرح بررسی کرده‌اند و با مجوز و کد ثبت خود فروشگاه باز کرده است.

## چرا این بازار ساخته شد
طرح ملی مشاغل خانگی به خانواده‌ها آموزش می‌دهد که از خانه تولید کنند؛ اما تولید بدون فروش ماندگار نیست. بازارچه راهی است تا دست‌دوزی، سفال، خوراکی‌های خانگی، گیاهان دارویی و دیگر کارهای این کسب‌وکارها بی‌واسطه به دست خریداران سراسر کشور برسد. کارشناسان طرح فروش هر شهرستان را در برابر سهمیه‌اش دنبال می‌کنند تا ببینند آموزش به بازار رسیده است یا نه.

## خرید از بازارچه
- کالاهای چند فروشنده را در یک سبد می‌گذارید و یک‌جا پرداخت می‌کنید؛ هر فروشنده سهم خود را جدا می‌فرستد.
- پرداخت از درگاه بانکی یا در محل انجام می‌شود. پول پرداخت اینترنتی تا تأیید دریافت کالا نزد بازار می‌ماند.
- اگر کالا نرسید یا آسیب دید، از صفحه سفارش مشکل را گزارش می‌کنید ([بازگشت کالا و بازپرداخت](/returns)).

درباره نشان «آموزش‌دیدهٔ طرح» در صفحه [نشان طرح](/programme) بخوانید.""",
    """Bazarche is the online market of the national home-business programme. Every seller here is a home business that took the programme's training courses, had its file checked by programme staff, and opened its shop under its own permit and registration code.

## Why this market exists
The national home-business programme teaches families to produce from home; but production without sales does not last. Bazarche lets the needlework, pottery, home-made food, herbs and other goods of these businesses reach buyers across the country directly. Programme staff follow each county's sales against its quota, to see whether the training reached the market.

## Buying on Bazarche
- Put the goods of several sellers in one cart and pay once; each seller sends their own share.
- Pay online through the bank gateway or cash on delivery. Money paid online stays with the market until you confirm the goods arrived.
- If something does not arrive or arrives damaged, report it from the order page ([Returns and refunds](/returns)).

Read what the "trained by the programme" badge means on [the programme badge](/programme) page.""",
)

CONTACT = PageText(
    "تماس با ما",
    "Contact us",
    """## درباره یک کالا یا سفارش
سریع‌ترین راه، پیام به خود فروشنده است: در صفحه هر کالا «پرسش از فروشنده» و در صفحه هر سفارش «پیام درباره این سفارش» را بزنید. پاسخ فروشنده در [پیام‌های شما](/messages) می‌آید.

## مشکل در سفارش
اگر سفارشی نرسیده، آسیب دیده یا با توضیح آن فرق دارد، از صفحه همان سفارش مشکل را گزارش کنید. اگر فروشنده پاسخ نداد یا پاسخ او شما را قانع نکرد، کارشناسان بازار تصمیم می‌گیرند ([بازگشت کالا و بازپرداخت](/returns)).

## پشتیبانی بازار
برای هر موضوع دیگر، از جمله پرداخت و حساب کاربری، به نشانی [support@bazarche.example](mailto:support@bazarche.example) بنویسید. روزهای کاری شنبه تا چهارشنبه، ساعت ۸ تا ۱۶ پاسخ می‌دهیم.

## فروشنده شوید
اگر در دوره‌های طرح ملی مشاغل خانگی آموزش دیده‌اید، پس از ورود به حساب، از پیوند «در بازارچه بفروشید» درخواست خود را بفرستید.""",
    """## About a product or an order
The quickest way is to write to the seller: "Ask the seller" on a product's page, or "Write about this order" on an order's page. The seller's answer arrives in [your messages](/messages).

## A problem with an order
If an order has not arrived, arrived damaged or is not as described, report the problem from that order's page. If the seller does not answer, or their answer does not settle it, the market's staff decide ([Returns and refunds](/returns)).

## The market's support
For anything else, payments and accounts included, write to [support@bazarche.example](mailto:support@bazarche.example). We answer Saturday to Wednesday, 8:00 to 16:00 Tehran time.

## Become a seller
If you were trained by the national home-business programme, sign in and send your application from "Sell on Bazarche".""",
)

TERMS = PageText(
    "شرایط استفاده",
    "Terms of use",
    """این شرایط میان شما و بازارچه، بازار اینترنتی طرح ملی توسعه مشاغل خانگی، برقرار است. با ساختن حساب یا ثبت سفارش آن را می‌پذیرید.

## نقش بازار
- بازارچه فروشنده نیست؛ هر کالا را یک کسب‌وکار خانگی تأییدشده می‌فروشد و درستی توضیح، کیفیت و ارسال آن با اوست.
- بازار فروشندگان را پیش از بازکردن فروشگاه بررسی می‌کند، آگهی‌ها را نظارت می‌کند و در اختلاف‌ها داوری می‌کند.

## سفارش و پرداخت
- قیمت‌ها به تومان است. هزینه ارسال هر فروشنده پیش از پرداخت نشان داده می‌شود.
- یک پرداخت می‌تواند چند سفارش (یکی برای هر فروشنده) را بپوشاند.
- سفارشی که پرداخت اینترنتی‌اش در مهلت انجام نشود لغو می‌شود و موجودی به فروشنده برمی‌گردد.
- سفارش پس از تأیید دریافت شما، یا {receipt_days} روز پس از ارسال اگر مشکلی گزارش نشده باشد، کامل می‌شود.

## حساب کاربری
- اطلاعات حساب خود را درست وارد کنید و رمز عبورتان را به کسی ندهید.
- فروش کالای غیرمجاز، تقلبی یا خطرناک و نوشتن پیام توهین‌آمیز ممنوع است؛ بازار می‌تواند چنین آگهی یا پیامی را پنهان و حساب را تعلیق کند.

## فروشندگان
فروشندگان از هر سفارش کامل‌شده کارمزدی به بازار می‌پردازند و مبلغ فروش آنان در دوره‌های تسویه به شماره شبای ثبت‌شده‌شان واریز می‌شود.""",
    """These terms are between you and Bazarche, the online market of the national home-business programme. You accept them when you make an account or place an order.

## The market's part
- Bazarche is not the seller: each product is sold by an approved home business, which answers for its description, its quality and its shipping.
- The market checks sellers before they open a shop, moderates listings and decides disputes.

## Orders and payment
- Prices are in toman. Each seller's shipping cost is shown before you pay.
- One payment can cover several orders (one per seller).
- An order whose online payment is not made in time is cancelled and its stock goes back to the seller.
- An order completes when you confirm receipt, or {receipt_days} days after shipping if no problem was reported.

## Your account
- Give true details and keep your password to yourself.
- Selling goods that are unlawful, counterfeit or dangerous, and writing abusive messages, are forbidden; the market may hide such a listing or message and suspend the account.

## Sellers
Sellers pay the market a commission on every completed order; their sales are paid to the Sheba account they registered in regular settlements.""",
)

RETURNS = PageText(
    "بازگشت کالا و بازپرداخت",
    "Returns and refunds",
    """پول پرداخت اینترنتی شما تا کامل‌شدن سفارش نزد بازار می‌ماند؛ اگر کالا نرسد یا مشکل داشته باشد، بازار آن را به شما برمی‌گرداند.

## چه زمانی می‌توانید مشکل گزارش کنید
از لحظه ارسال سفارش تا {receipt_days} روز پس از آن، در صفحه سفارش دکمه «گزارش مشکل» را می‌بینید. سه نوع مشکل پذیرفته می‌شود:
- کالا نرسیده است؛
- کالا آسیب‌دیده رسیده است؛
- کالا با توضیح آگهی فرق دارد.
می‌توانید تا چهار عکس هم بفرستید. تا وقتی مشکل باز است، سفارش خودبه‌خود کامل نمی‌شود.

## پس از گزارش
- فروشنده یک بار پاسخ می‌دهد؛ شاید پیشنهاد جایگزینی یا بازپرداخت بدهد.
- اگر فروشنده {answer_days} روز پاسخ نداد یا پاسخ او شما را قانع نکرد، داوری بازار را بخواهید. تا پیش از آن می‌توانید گزارش را پس بگیرید.
- کارشناسان بازار تصمیم می‌گیرند: بازپرداخت همه یا بخشی از مبلغ سفارش، یا نپذیرفتن گزارش با ذکر دلیل.

## بازپرداخت
- پرداخت اینترنتی از همان درگاهی که پول را گرفته به همان کارت برمی‌گردد؛ زمان رسیدن آن به حساب به بانک شما بستگی دارد.
- در سفارش پرداخت در محل، فروشنده مبلغ را مستقیم به شما برمی‌گرداند و بازار آن را ثبت می‌کند.
- نتیجه هر مرحله با پیامک یا ایمیل و در فهرست اعلان‌های شما می‌آید.

اگر کالا سالم رسیده و فقط نظرتان عوض شده است، پیش از ارسال کالا با خود فروشنده هماهنگ کنید؛ بازار بازگرداندن کالای سالم را تضمین نمی‌کند مگر فروشنده بپذیرد.""",
    """Money you pay online stays with the market until the order completes; if the goods do not arrive or have a problem, the market gives it back.

## When you can report a problem
From the moment an order is shipped until {receipt_days} days after, its page shows a "Report a problem" button. Three kinds of problem are accepted:
- the goods did not arrive;
- the goods arrived damaged;
- the goods are not as the listing described them.
You may add up to four photos. While a problem is open, the order does not complete by itself.

## After you report
- The seller answers once; they may offer a replacement or a refund.
- If the seller has not answered within {answer_days} days, or their answer does not settle it, ask the market to decide. Until then you may withdraw the report.
- The market's staff decide: a refund of all or part of the order, or no refund, with the reason.

## Refunds
- An online payment goes back through the gateway that took it, to the same card; when it reaches your account depends on your bank.
- For a cash-on-delivery order the seller gives the money back to you directly and the market records it.
- You are told of every step by text message or e-mail and in your notifications.

If the goods arrived sound and you only changed your mind, agree it with the seller before they ship; the market does not guarantee the return of sound goods unless the seller accepts it.""",
)

PRIVACY = PageText(
    "حریم خصوصی",
    "Privacy",
    """بازارچه فقط اطلاعاتی را نگه می‌دارد که برای خرید، فروش و گزارش‌های طرح لازم است، و آن را نمی‌فروشد.

## چه چیزی نگه می‌داریم
- حساب: نام، نشانی ایمیل، شماره همراه (اگر تأیید کرده باشید) و رمز عبور به‌صورت درهم‌سازی‌شده، نه خود رمز؛
- ورودها: زمان هر ورود و مرورگر آن، تا بتوانید ورودهای دیگر را ببندید؛
- سفارش‌ها: کالاها، مبلغ‌ها، نشانی و شماره تحویل، و تا هشت نشانی ذخیره‌شده برای خریدهای بعدی؛
- پرداخت‌ها: شماره پیگیری بانک و شماره کارت پوشیده‌ای که درگاه برمی‌گرداند؛ شماره کامل کارت و رمز آن هرگز به دست ما نمی‌رسد؛
- پیام‌ها و گزارش‌های مشکل، با عکس‌هایشان؛
- بازدید از کالاها به‌صورت شمارش روزانه، بدون نگه‌داشتن نشانی اینترنتی شما.
فروشندگان نام و نشانی خریدار را فقط برای ارسال سفارش خودشان می‌بینند. کارشناسان طرح گزارش‌های فروش را بدون نام خریداران می‌خوانند.

## کوکی‌ها
فقط کوکی‌های لازم: نشست ورود، «مرا به خاطر بسپار» اگر انتخاب کنید، و زبان صفحه. کوکی تبلیغاتی یا ردیاب دیگران نداریم.

## داده‌های شما در دست شما
- در [صفحه حساب](/auth/account) می‌توانید همه داده‌های خود را در یک پرونده JSON بگیرید.
- در همان صفحه می‌توانید حساب خود را حذف کنید، اگر سفارش نیمه‌تمام یا فروشگاه فعالی نداشته باشید. با حذف حساب، نام، نشانی‌ها، شماره‌ها و رمز عبور پاک می‌شوند و همه ورودها بسته می‌شوند؛ سفارش‌ها بدون نام و نشانی گیرنده برای صورت‌حساب‌ها و آمار طرح می‌مانند و پیام‌هایتان در گفت‌وگو با طرف دیگر باقی می‌ماند.""",
    """Bazarche keeps only what buying, selling and the programme's reports need, and never sells it.

## What we keep
- your account: name, e-mail address, mobile number (if you verified one) and your password hashed, never the password itself;
- your logins: when each began and in which browser, so you can end the others;
- your orders: the goods, amounts, delivery address and number, and up to eight saved addresses for later checkouts;
- payments: the bank's reference and the masked card number the gateway returns; your full card number and PIN never reach us;
- messages and problem reports, with their photos;
- product views as daily counts, without keeping your internet address.
Sellers see a buyer's name and address only to ship their own orders. Programme staff read sales reports without buyers' names.

## Cookies
Only the ones the site needs: your login session, "remember me" if you choose it, and the page's language. No advertising or third-party tracking cookies.

## Your data in your hands
- On [your account page](/auth/account) you can download all your data as one JSON file.
- On the same page you can delete your account, unless an order is still under way or you keep an open shop. Deleting removes your name, addresses, numbers and password and ends every login; your orders stay without the recipient's name and address, for invoices and the programme's figures, and your messages stay in the conversation with the other party.""",
)

PROGRAMME = PageText(
    "نشان «آموزش‌دیدهٔ طرح»",
    'The "trained by the programme" badge',
    """نشان «آموزش‌دیدهٔ طرح» کنار فروشندگانی می‌آید که دوره آموزشی طرح ملی توسعه مشاغل خانگی را به پایان رسانده‌اند و تاریخ پایان دوره و آموزشگاه آنان در پرونده‌شان ثبت شده است.

## این نشان چه می‌گوید
- فروشنده در دوره‌های مهارتی و کسب‌وکار طرح (تولید، بسته‌بندی، قیمت‌گذاری و فروش) شرکت کرده و آن را تمام کرده است؛
- کارشناسان طرح پرونده او را، از جمله مجوز مشاغل خانگی و کد ثبت، بررسی و فروشگاهش را تأیید کرده‌اند؛
- فروش او در آمار طرح برای شهرستانش شمرده می‌شود.

## این نشان چه نمی‌گوید
نشان، ضمانت کیفیت هر کالا نیست. کیفیت را از توضیح و عکس‌های آگهی، سابقه فروش فروشنده و زمان پاسخ او بسنجید، و اگر کالا با توضیحش فرق داشت از [روند گزارش مشکل](/returns) استفاده کنید.

فروشندگانی که نشان ندارند هم کسب‌وکار خانگی تأییدشده‌اند؛ فقط تاریخ پایان دوره آموزشی‌شان هنوز ثبت نشده است.""",
    """The "trained by the programme" badge appears beside sellers who finished a training course of the national home-business programme, with the date they finished and the training centre recorded in their file.

## What the badge says
- the seller took and finished the programme's skills and business courses (making, packaging, pricing and selling);
- programme staff checked their file, their home-business permit and registration code included, and approved their shop;
- their sales count in the programme's figures for their county.

## What it does not say
The badge is no guarantee of each product's quality. Judge that by the listing's description and photos, the seller's sales and response time, and if the goods are not as described, use [the problem report](/returns).

Sellers without the badge are approved home businesses too; the date of their training has just not been recorded yet.""",
)

PAGES: dict[str, PageText] = {
    "about": ABOUT,
    "contact": CONTACT,
    "terms": TERMS,
    "returns": RETURNS,
    "privacy": PRIVACY,
    "programme": PROGRAMME,
}
